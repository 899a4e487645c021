namespace Pipeline.Denoising.Inference;

/// <summary>Tiling of large slices: square tiles of <see cref="TileSize"/> overlapping by <see cref="Overlap"/>.</summary>
public sealed record TilingOptions
{
    /// <summary>Slices up to this size in both directions go through whole (bounds activation memory).</summary>
    public int TileSize { get; init; } = 512;

    /// <summary>Pixels shared by neighbouring tiles, blended with linear ramps to hide seams.</summary>
    public int Overlap { get; init; } = 32;

    public int BatchSize { get; init; } = 8;
}

/// <summary>
/// Denoises a stack of normalised slices of any size with an engine: gathers 2.5D neighbours,
/// cuts tiles, pads them by reflection to the network's size multiple, runs them in batches and
/// blends the tiles back. Pure arithmetic around the engine, identical for every engine.
/// </summary>
public sealed class SliceDenoiser(IDenoisingEngine engine, TilingOptions? tiling = null)
{
    private readonly TilingOptions _tiling = Validate(tiling ?? new TilingOptions());

    public IDenoisingEngine Engine => engine;

    /// <summary>Denoises slices (each height*width, row-major, in normalised units) of one series; cancellation is
    /// observed between batches (a long series stops within one batch).</summary>
    public float[][] Denoise(IReadOnlyList<float[]> slices, int height, int width, IProgress<int>? slicesDone = null,
        CancellationToken cancellationToken = default) =>
        DenoiseSome(slices, height, width, null, null, slicesDone, cancellationToken)!;

    /// <summary>
    /// Denoises the <paramref name="wanted"/> slices only (all when null; every slice still serves as a 2.5D neighbour),
    /// and stops early, between batches, once <paramref name="stop"/> says so after at least one slice is done: a slice's
    /// result does not depend on which others are computed with it. Null where a slice was not wanted or not finished.
    /// </summary>
    /// <param name="slicesDone">Receives the count of slices finished so far.</param>
    public float[]?[] DenoiseSome(IReadOnlyList<float[]> slices, int height, int width, Func<int, bool>? wanted, Func<bool>? stop,
        IProgress<int>? slicesDone = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (height < 1 || width < 1)
            throw new ArgumentException("Slices must be at least 1x1.");
        foreach (var s in slices)
            if (s.Length != height * width)
                throw new ArgumentException($"A slice has {s.Length} pixels, expected {height}x{width}.");

        var spec = engine.Architecture;
        var ys = TileStarts(height, _tiling.TileSize, _tiling.Overlap);
        var xs = TileStarts(width, _tiling.TileSize, _tiling.Overlap);
        var th = Math.Min(height, _tiling.TileSize);
        var tw = Math.Min(width, _tiling.TileSize);
        var ph = RoundUp(th, spec.SizeMultiple);
        var pw = RoundUp(tw, spec.SizeMultiple);
        var wy = Ramp(th, ys, _tiling.Overlap);
        var wx = Ramp(tw, xs, _tiling.Overlap);
        var single = ys.Length == 1 && xs.Length == 1;

        var outputs = new float[]?[slices.Count];
        var weights = single ? null : new float[height * width];
        var tiles = (from s in Enumerable.Range(0, slices.Count) where wanted?.Invoke(s) ?? true from y in ys from x in xs select (s, y, x)).ToArray();
        if (tiles.Length == 0)
            return outputs;
        var firstSlice = tiles[0].s;
        var finished = new bool[slices.Count];
        var finishedCount = 0;
        var channels = spec.InChannels;
        var plane = ph * pw;
        var batchSize = _tiling.BatchSize;
        var input = new float[batchSize * channels * plane];
        var output = new float[batchSize * plane];

        for (var start = 0; start < tiles.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (finishedCount > 0 && stop?.Invoke() == true)
                break;
            var n = Math.Min(batchSize, tiles.Length - start);
            for (var b = 0; b < n; b++)
            {
                var (s, y0, x0) = tiles[start + b];
                for (var c = 0; c < channels; c++)
                {
                    var neighbour = slices[Math.Clamp(s + c - spec.ContextSlices, 0, slices.Count - 1)];
                    CopyTilePadded(neighbour, height, width, y0, x0, ph, pw, input.AsSpan((b * channels + c) * plane, plane));
                }
            }
            engine.Run(input.AsMemory(0, n * channels * plane), output.AsMemory(0, n * plane), n, ph, pw);
            for (var b = 0; b < n; b++)
            {
                var (s, y0, x0) = tiles[start + b];
                var result = outputs[s] ??= new float[height * width];
                var tile = output.AsSpan(b * plane, plane);
                for (var y = 0; y < th; y++)
                {
                    var row = (y0 + y) * width + x0;
                    for (var x = 0; x < tw; x++)
                    {
                        if (single)
                        {
                            result[row + x] = tile[y * pw + x];
                            continue;
                        }
                        var w = wy[Array.IndexOf(ys, y0) * th + y] * wx[Array.IndexOf(xs, x0) * tw + x];
                        result[row + x] += w * tile[y * pw + x];
                        if (s == firstSlice)
                            weights![row + x] += w;
                    }
                }
                if (x0 == xs[^1] && y0 == ys[^1])
                {
                    finished[s] = true;
                    slicesDone?.Report(++finishedCount);
                }
            }
        }
        for (var s = 0; s < outputs.Length; s++)
        {
            if (!finished[s])
            {
                outputs[s] = null; // stopped part-way through its tiles, or not wanted
                continue;
            }
            if (weights is null) continue;
            var result = outputs[s]!;
            for (var i = 0; i < result.Length; i++)
                result[i] /= weights[i];
        }
        return outputs;
    }

    /// <summary>Tile origins covering [0, size): evenly stepped, the last one flush with the end.</summary>
    internal static int[] TileStarts(int size, int tile, int overlap)
    {
        if (size <= tile)
            return [0];
        var step = tile - overlap;
        var starts = new List<int>();
        for (var s = 0; s + tile < size; s += step)
            starts.Add(s);
        starts.Add(size - tile);
        return [.. starts];
    }

    /// <summary>Per-tile blend weights along one axis: 1 inside, ramping down where a neighbour overlaps.</summary>
    private static float[] Ramp(int tile, int[] starts, int overlap)
    {
        var ramps = new float[starts.Length * tile];
        for (var t = 0; t < starts.Length; t++)
        {
            for (var i = 0; i < tile; i++)
            {
                float w = 1;
                if (t > 0)
                    w = Math.Min(w, (i + 1f) / (Math.Min(overlap, starts[t - 1] + tile - starts[t]) + 1f));
                if (t < starts.Length - 1)
                    w = Math.Min(w, (tile - i) / (Math.Min(overlap, starts[t] + tile - starts[t + 1]) + 1f));
                ramps[t * tile + i] = w;
            }
        }
        return ramps;
    }

    /// <summary>Copies a tile into a padded buffer; pixels past the image edge mirror the image.</summary>
    private static void CopyTilePadded(float[] slice, int height, int width, int y0, int x0, int ph, int pw, Span<float> dst)
    {
        for (var y = 0; y < ph; y++)
        {
            var sy = Reflect(y0 + y, height);
            var src = slice.AsSpan(sy * width, width);
            var row = dst.Slice(y * pw, pw);
            var inside = Math.Min(pw, width - x0);
            src.Slice(x0, inside).CopyTo(row);
            for (var x = inside; x < pw; x++)
                row[x] = src[Reflect(x0 + x, width)];
        }
    }

    private static int Reflect(int i, int size)
    {
        if (size == 1)
            return 0;
        var period = 2 * (size - 1);
        i %= period;
        return i < size ? i : period - i;
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static TilingOptions Validate(TilingOptions t)
    {
        if (t.TileSize < 16 || t.Overlap < 0 || t.Overlap >= t.TileSize / 2 || t.BatchSize < 1)
            throw new ArgumentException("Tiling needs TileSize >= 16, 0 <= Overlap < TileSize/2 and BatchSize >= 1.");
        return t;
    }
}
