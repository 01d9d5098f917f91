namespace Lightning.Generators.Hyperparameters.Model;

/// <summary>How the generated code can build the module from its hyperparameters.</summary>
internal enum CreateMode
{
    /// <summary>No Create, LoadFromCheckpoint or RunCli (a constructor parameter that is not a hyperparameter has no default).</summary>
    None,
    /// <summary>Generated from the hyperparameters.</summary>
    Real,
    /// <summary>Declared, but throwing: a hyperparameter has an error (LTN0007-LTN0009) or the class is not a torch.nn.Module (LTN0020), so the module cannot be built from them.</summary>
    Stub,
}
