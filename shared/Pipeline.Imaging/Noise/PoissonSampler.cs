namespace Pipeline.Imaging.Noise;

/// <summary>Exact Poisson deviates: multiplication method below 10, Hoermann's PTRS (1993) above (as numpy does).</summary>
internal static class PoissonSampler
{
    public static double Next(Random random, double lambda)
    {
        if (lambda <= 0) return 0;
        if (lambda < 10)
        {
            var limit = Math.Exp(-lambda);
            var k = 0;
            var product = random.NextDouble();
            while (product > limit)
            {
                k++;
                product *= random.NextDouble();
            }
            return k;
        }

        var sqrtLambda = Math.Sqrt(lambda);
        var logLambda = Math.Log(lambda);
        var b = 0.931 + 2.53 * sqrtLambda;
        var a = -0.059 + 0.02483 * b;
        var inverseAlpha = 1.1239 + 1.1328 / (b - 3.4);
        var vr = 0.9277 - 3.6224 / (b - 2);
        while (true)
        {
            var u = random.NextDouble() - 0.5;
            var v = random.NextDouble();
            var us = 0.5 - Math.Abs(u);
            var k = Math.Floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return k;
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (Math.Log(v) + Math.Log(inverseAlpha) - Math.Log(a / (us * us) + b) <= -lambda + k * logLambda - LogGamma(k + 1))
                return k;
        }
    }

    /// <summary>log Gamma(x) for x >= 1 by the Stirling series (numpy's random_loggam).</summary>
    internal static double LogGamma(double x)
    {
        ReadOnlySpan<double> a =
        [
            8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
            8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
            1.796443723688307e-01, -1.39243221690590e+00,
        ];
        if (x == 1.0 || x == 2.0) return 0;
        var n = x < 7.0 ? (int)(7 - x) : 0;
        var x0 = x + n;
        var x2 = 1.0 / (x0 * x0);
        var gl0 = a[9];
        for (var k = 8; k >= 0; k--)
        {
            gl0 *= x2;
            gl0 += a[k];
        }
        var gl = gl0 / x0 + 0.5 * Math.Log(2 * Math.PI) + (x0 - 0.5) * Math.Log(x0) - x0;
        for (var k = 1; k <= n; k++)
        {
            gl -= Math.Log(x0 - 1.0);
            x0 -= 1.0;
        }
        return gl;
    }
}
