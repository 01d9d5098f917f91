using System;

namespace Lightning.Tuning;

/// <summary>
/// The learning rate of each step of a sweep, exactly as Lightning's <c>_ExponentialLR</c> and <c>_LinearLR</c>
/// (src/lightning/pytorch/tuner/lr_finder.py) give it. Those are PyTorch <c>LRScheduler</c>s stepped after every optimizer
/// step; construction already steps once (<c>last_epoch</c> 0, which returns the base rate), so step <c>k</c> of the sweep
/// (from 0) trains with <c>last_epoch = k</c> and <c>get_lr</c> computes <c>r = (last_epoch + 1) / num_iter</c> but returns the
/// base rate while <c>last_epoch</c> is 0:
/// <code>
/// k = 0:  min_lr
/// k >= 1: exponential  min_lr * (max_lr / min_lr) ^ ((k + 1) / n)
///         linear       min_lr + (k + 1) / n * (max_lr - min_lr)
/// </code>
/// So the sweep starts at <c>min_lr</c>, jumps to <c>r = 2/n</c> at the second step (there is no step at <c>r = 1/n</c>), and
/// its last step (<c>k = n - 1</c>) trains at exactly <c>max_lr</c>. Kept as Lightning has it, so the same losses give the
/// same suggestion.
/// </summary>
internal static class LrSchedule
{
    /// <summary>The rate of step <paramref name="step"/> (from 0) of a sweep of <paramref name="numTraining"/> steps.</summary>
    public static double At(LrFindMode mode, double minLr, double maxLr, int numTraining, long step)
    {
        if (step <= 0) return minLr;
        double r = (double)(step + 1) / numTraining;
        return mode == LrFindMode.Exponential
            ? minLr * Math.Pow(maxLr / minLr, r)
            : minLr + r * (maxLr - minLr);
    }
}
