using System;

namespace Lightning.Cli;

/// <summary>Every <see cref="TrainerOptions"/> setting that a command line can set, with Lightning's flag names.</summary>
internal static class TrainerCliOptions
{
    public static readonly CliOption<TrainerOptions>[] All =
    {
        CliOption<TrainerOptions>.Create("max_epochs", "Stop after this many epochs (-1: no limit; default 1000 when max_steps is unset)", o => o.MaxEpochs, (o, v) => o with { MaxEpochs = v }),
        CliOption<TrainerOptions>.Create("max_steps", "Stop after this many optimizer steps (-1: no limit)", o => o.MaxSteps, (o, v) => o with { MaxSteps = v }),
        CliOption<TrainerOptions>.Create("min_epochs", "Train at least this many epochs before a requested stop (null: no minimum)", o => o.MinEpochs, (o, v) => o with { MinEpochs = v }),
        CliOption<TrainerOptions>.Create("min_steps", "Take at least this many optimizer steps before a requested stop (null: no minimum)", o => o.MinSteps, (o, v) => o with { MinSteps = v }),
        CliOption<TrainerOptions>.Create("max_time", "Stop after this much training time, DD:HH:MM:SS", o => o.MaxTime, (o, v) => o with { MaxTime = v }),
        CliOption<TrainerOptions>.Create("limit_train_batches", "Training batches per epoch: a count or a fraction", o => o.LimitTrainBatches, (o, v) => o with { LimitTrainBatches = v }),
        CliOption<TrainerOptions>.Create("limit_val_batches", "Validation batches per run: a count or a fraction", o => o.LimitValBatches, (o, v) => o with { LimitValBatches = v }),
        CliOption<TrainerOptions>.Create("limit_test_batches", "Test batches: a count or a fraction", o => o.LimitTestBatches, (o, v) => o with { LimitTestBatches = v }),
        CliOption<TrainerOptions>.Create("limit_predict_batches", "Prediction batches: a count or a fraction", o => o.LimitPredictBatches, (o, v) => o with { LimitPredictBatches = v }),
        CliOption<TrainerOptions>.Create("val_check_interval", "Validate every n training batches or every fraction of an epoch", o => o.ValCheckInterval, (o, v) => o with { ValCheckInterval = v }),
        CliOption<TrainerOptions>.Create("check_val_every_n_epoch", "Validate in every n-th epoch (null: by val_check_interval batches across epochs)", o => o.CheckValEveryNEpoch, (o, v) => o with { CheckValEveryNEpoch = v }),
        CliOption<TrainerOptions>.Create("num_sanity_val_steps", "Validation batches before training (-1: all)", o => o.NumSanityValSteps, (o, v) => o with { NumSanityValSteps = v }),
        CliOption<TrainerOptions>.Create("overfit_batches", "Train and validate on these first batches (0: off)", o => o.OverfitBatches, (o, v) => o with { OverfitBatches = v }),
        CliOption<TrainerOptions>.Create("fast_dev_run", "Run n batches of each loop once, as a smoke test (0: off)", o => o.FastDevRun, (o, v) => o with { FastDevRun = v }),
        CliOption<TrainerOptions>.Create("accumulate_grad_batches", "Accumulate gradients over this many batches", o => o.AccumulateGradBatches, (o, v) => o with { AccumulateGradBatches = v }),
        CliOption<TrainerOptions>.Create("gradient_clip_val", "Clip gradients to this norm or value (null: no clipping)", o => o.GradientClipVal, (o, v) => o with { GradientClipVal = v }),
        CliOption<TrainerOptions>.Create("gradient_clip_algorithm", "Clip the total norm of the gradients or each value", o => o.GradientClipAlgorithm, (o, v) => o with { GradientClipAlgorithm = v }),
        CliOption<TrainerOptions>.Create("precision", "Floating-point precision: 32-true, 64-true or bf16-true (16-mixed and bf16-mixed need autocast, which TorchSharp 0.107 lacks)", o => o.Precision, (o, v) => o with { Precision = v }),
        CliOption<TrainerOptions>.Create("log_every_n_steps", "Step values go to the loggers every n steps", o => o.LogEveryNSteps, (o, v) => o with { LogEveryNSteps = v }),
        CliOption<TrainerOptions>.Create("enable_progress_bar", "Show the progress bar", o => o.EnableProgressBar, (o, v) => o with { EnableProgressBar = v }),
        CliOption<TrainerOptions>.Create("enable_model_summary", "Print the model summary at the start", o => o.EnableModelSummary, (o, v) => o with { EnableModelSummary = v }),
        CliOption<TrainerOptions>.Create("enable_checkpointing", "Save checkpoints (a ModelCheckpoint when none is configured)", o => o.EnableCheckpointing, (o, v) => o with { EnableCheckpointing = v }),
        CliOption<TrainerOptions>.Create("strict_callback_states", "On resume, a saved callback state that matches no callback is an error (default: a warning)", o => o.StrictCallbackStates, (o, v) => o with { StrictCallbackStates = v }),
        CliOption<TrainerOptions>.Create("default_root_dir", "Folder for lightning_logs/version_N", o => o.DefaultRootDir, (o, v) => o with { DefaultRootDir = v }),
        CliOption<TrainerOptions>.Create("seed", "Seed TorchSharp's generators (null: no seeding)", o => o.Seed, (o, v) => o with { Seed = v }),
        CliOption<TrainerOptions>.Create("device", "auto, cpu, cuda or cuda:N", o => o.Device, (o, v) => o with { Device = v }),
        CliOption<TrainerOptions>.Create("strategy", "One process (auto, single_device) or ddp (data-parallel over MPI; launch with mpirun)", o => o.Strategy, (o, v) => o with { Strategy = v }),
        CliOption<TrainerOptions>.Create("profiler", "Time each action of the fit and print the table at its end (and profile.csv in the run folder): simple, or null for none", o => o.Profiler, (o, v) => o with { Profiler = v }),
        CliOption<TrainerOptions>.Create("threads", "Intra-op threads (null: TorchSharp's default)", o => o.Threads, (o, v) => o with { Threads = v }),
    };
}
