using System;

namespace Lightning;

/// <summary>A misconfiguration or bad input the trainer detected; the message names the option, member or file.</summary>
public class LightningException : Exception
{
    public LightningException(string message) : base(message) { }
    public LightningException(string message, Exception inner) : base(message, inner) { }
}
