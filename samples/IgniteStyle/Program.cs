using System;
using IgniteStyle;
using Lightning;

// dotnet run -c Release --project samples/IgniteStyle [-- --max-epochs N] [--rows N] [--out DIR]
try
{
    return IgniteApp.Run(args);
}
catch (LightningException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
