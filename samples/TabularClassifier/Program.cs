using System;
using Lightning;
using TabularClassifier;

// dotnet run -c Release --project samples/TabularClassifier [-- --data FILE.csv] [--max-epochs N] [--rows N] [--out DIR]
try
{
    return TabularApp.Run(args);
}
catch (LightningException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
