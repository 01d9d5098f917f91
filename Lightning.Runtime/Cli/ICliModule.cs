using System;
using System.Collections.Generic;

namespace Lightning.Cli;

/// <summary>
/// What <see cref="LightningCli.Run"/> needs to know about a module, as static members the generator implements for every
/// <c>[LightningModule]</c> class that has a <c>RunCli</c>: its name, its subcommands, its hyperparameters as options with
/// their defaults, how to build it (new, or from a checkpoint), how to read its hyperparameters from JSON, and, with a
/// <c>[PredictStep]</c>, how to run prediction with its output type. The command line reads them through the type
/// parameter (<c>TModule.Create(hparams)</c>): direct calls, no reflection, no delegates to pass. Users do not implement it.
/// </summary>
/// <typeparam name="TSelf">The module class itself.</typeparam>
/// <typeparam name="THParams">Its generated hyperparameters record, <c>TSelf.HParams</c>.</typeparam>
/// <typeparam name="TBatch">The batch type of its steps.</typeparam>
public interface ICliModule<TSelf, THParams, TBatch> : ILightningModule<TBatch>
    where TSelf : ICliModule<TSelf, THParams, TBatch>
    where THParams : IHyperParameters
{
    /// <summary>The module's name, as the command line's descriptions show it.</summary>
    static abstract string CliName { get; }

    /// <summary>The subcommands the module's steps support (<c>fit</c> always).</summary>
    static abstract CliCommands Commands { get; }

    /// <summary>The hyperparameters as command-line options (<c>--batch-size</c>), in declaration order.</summary>
    static abstract IReadOnlyList<CliOption<THParams>> HyperparameterOptions { get; }

    /// <summary>The hyperparameters' defaults, which the config file and the command line change.</summary>
    static abstract THParams DefaultHParams { get; }

    /// <summary>Reads hyperparameters from a JSON object; errors name <paramref name="source"/> (the generated <c>HParams.FromJson</c>).</summary>
    static abstract THParams HParamsFromJson(string json, string source);

    /// <summary>Builds the module from <paramref name="hparams"/> (the generated <c>Create</c>).</summary>
    static abstract TSelf Create(THParams hparams);

    /// <summary>Rebuilds the module from a checkpoint, its saved hyperparameters changed by <paramref name="overrides"/> (the generated <c>LoadFromCheckpoint</c>).</summary>
    static abstract TSelf LoadFromCheckpoint(string path, Func<THParams, THParams>? overrides);

    /// <summary>
    /// Runs <paramref name="model"/>'s predict step over <paramref name="data"/>'s predict loader with
    /// <c>trainer.Predict</c>; one output per batch. A module with a <c>[PredictStep]</c> that returns a value implements
    /// it with its output type; for any other module (no <c>predict</c> in <see cref="Commands"/>) it is an error.
    /// </summary>
    static virtual IReadOnlyList<object?> Predict(Trainer trainer, TSelf model, LightningDataModule<TBatch> data) =>
        throw new LightningException($"{TSelf.CliName} has no [PredictStep] method that returns a value.");
}
