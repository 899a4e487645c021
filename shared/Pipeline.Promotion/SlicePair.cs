namespace Pipeline.Promotion;

/// <summary>
/// One held-out slice of one case (intensity scaling and noise level) scored with both models against the clean slice:
/// the unit the gate resamples. Pairs keep the slice's two scores together, so slice difficulty cancels out.
/// </summary>
/// <param name="Scaling">The protocol's intensity scaling, e.g. "bright".</param>
/// <param name="Noise">Noise spec, e.g. "rician:0.05".</param>
/// <param name="Slice">Index of the slice in the held-out volume.</param>
public sealed record SlicePair(string Scaling, string Noise, int Slice, double CandidatePsnr, double CandidateSsim, double BaselinePsnr, double BaselineSsim);

/// <summary>What a scoring report carries for the gate (the evaluation service's model score report has this property).</summary>
public sealed record PairedScores(IReadOnlyList<SlicePair> Pairs);
