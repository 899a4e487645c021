using Pipeline.Contracts;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Noise;

namespace Pipeline.Evaluation;

/// <summary>The quality figures of a pair (means over its frames) and of a series (means over its pairs).</summary>
internal static class PairMeasurement
{
    /// <summary>
    /// The figures of every readable pair (null for the others), measured in parallel. A pair the metrics refuse gets its
    /// <see cref="LoadedPair.Failure"/> set instead.
    /// </summary>
    public static QualityFigures?[] MeasureAll(List<LoadedPair> pairs, Dictionary<LoadedPair, ReferencePartner> partners)
    {
        var figures = new QualityFigures?[pairs.Count];
        Parallel.For(0, pairs.Count, i =>
        {
            if (pairs[i].Failure is not null) return;
            partners.TryGetValue(pairs[i], out var partner);
            try
            {
                figures[i] = Measure(pairs[i], partner);
            }
            catch (ArgumentException e)
            {
                // e.g. smaller than the SSIM window; the parameter name means nothing to an operator
                pairs[i].Failure = $"cannot be measured: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}";
            }
        });
        return figures;
    }

    /// <summary>The figures of one readable pair: means over its frames. Data range: 2^BitsStored - 1 of the source.</summary>
    private static QualityFigures Measure(LoadedPair pair, ReferencePartner? partner)
    {
        var (source, derived) = (pair.Source!, pair.Derived!);
        var range = DicomImages.DefaultDataRange(source.Instance.Description);
        var n = source.Frames.Count;
        double noiseIn = 0, noiseOut = 0, psnr = 0, ssim = 0;
        for (var k = 0; k < n; k++)
        {
            noiseIn += NoiseEstimator.Estimate(source.Frames[k]) / n;
            noiseOut += NoiseEstimator.Estimate(derived.Frames[k]) / n;
            var fidelity = SeriesComparison.Measure(source.Frames[k], derived.Frames[k], range);
            psnr += fidelity.Psnr / n;
            ssim += fidelity.Ssim / n;
        }
        var figures = new QualityFigures(noiseIn, noiseOut, psnr, ssim);
        if (partner?.Reference is not { } reference) return figures;

        double mseIn = 0, psnrIn = 0, ssimIn = 0, mseOut = 0, psnrOut = 0, ssimOut = 0;
        for (var k = 0; k < n; k++)
        {
            var input = SeriesComparison.Measure(reference.Frames[k], source.Frames[k], range);
            var output = SeriesComparison.Measure(reference.Frames[k], derived.Frames[k], range);
            (mseIn, psnrIn, ssimIn) = (mseIn + input.Mse / n, psnrIn + input.Psnr / n, ssimIn + input.Ssim / n);
            (mseOut, psnrOut, ssimOut) = (mseOut + output.Mse / n, psnrOut + output.Psnr / n, ssimOut + output.Ssim / n);
        }
        return figures with
        {
            MseReferenceInput = mseIn, PsnrReferenceInput = psnrIn, SsimReferenceInput = ssimIn,
            MseReferenceOutput = mseOut, PsnrReferenceOutput = psnrOut, SsimReferenceOutput = ssimOut,
            PsnrReferenceGain = psnrOut - psnrIn, SsimReferenceGain = ssimOut - ssimIn,
        };
    }

    /// <summary>Plain means over instances; a reference figure over the instances that have it.</summary>
    public static QualityFigures Mean(List<QualityFigures> all)
    {
        static double? MeanOf(IEnumerable<double?> values) =>
            values.OfType<double>().ToList() is { Count: > 0 } present ? present.Average() : null;
        return new QualityFigures(
            all.Average(f => f.NoiseSigmaInput), all.Average(f => f.NoiseSigmaOutput),
            all.Average(f => f.PsnrFidelity), all.Average(f => f.SsimFidelity),
            MeanOf(all.Select(f => f.MseReferenceInput)), MeanOf(all.Select(f => f.PsnrReferenceInput)), MeanOf(all.Select(f => f.SsimReferenceInput)),
            MeanOf(all.Select(f => f.MseReferenceOutput)), MeanOf(all.Select(f => f.PsnrReferenceOutput)), MeanOf(all.Select(f => f.SsimReferenceOutput)),
            MeanOf(all.Select(f => f.PsnrReferenceGain)), MeanOf(all.Select(f => f.SsimReferenceGain)));
    }
}
