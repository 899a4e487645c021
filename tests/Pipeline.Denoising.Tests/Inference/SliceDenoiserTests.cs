using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Tests.Inference;

public sealed class SliceDenoiserTests
{
    private static float[][] RandomSlices(int count, int height, int width, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, height * width).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(37, 53, 512, 0)]   // odd size: reflection padding to a multiple of 4, one tile
    [InlineData(130, 97, 48, 8)]   // tiled in both directions with overlap: blending must sum to 1
    [InlineData(64, 300, 64, 16)]  // tiled along one axis only
    public void An_identity_network_gives_back_every_pixel_exactly(int height, int width, int tile, int overlap)
    {
        var spec = ArchitectureSpec.GondaraCdae();
        var slices = RandomSlices(5, height, width, seed: height);
        var engine = new ChannelEcho(spec, channel: 0);
        var denoiser = new SliceDenoiser(engine, new TilingOptions { TileSize = tile, Overlap = overlap, BatchSize = 3 });

        var result = denoiser.Denoise(slices, height, width);

        for (var s = 0; s < slices.Length; s++)
            for (var i = 0; i < slices[s].Length; i++)
                Assert.Equal(slices[s][i], result[s][i], 5e-7f);
    }

    [Fact]
    public void Batches_hold_at_most_the_batch_size_and_cover_every_slice()
    {
        var engine = new ChannelEcho(ArchitectureSpec.GondaraCdae(), 0);
        new SliceDenoiser(engine, new TilingOptions { BatchSize = 4 }).Denoise(RandomSlices(10, 30, 30, 1), 30, 30);

        Assert.Equal([4, 4, 2], engine.Shapes.Select(s => s.Batch));
        Assert.All(engine.Shapes, s => Assert.Equal((32, 32), (s.Height, s.Width)));
    }

    [Fact]
    public void Context_channels_are_the_neighbouring_slices_clamped_at_the_ends()
    {
        // 2.5D with one neighbour each side: channel 0 is the slice before, channel 2 the slice after.
        var spec = ArchitectureSpec.ResidualDenoiser(depth: 2, width: 4, contextSlices: 1);
        var slices = RandomSlices(4, 8, 8, 2);

        var previous = new SliceDenoiser(new ChannelEcho(spec, 0)).Denoise(slices, 8, 8);
        var next = new SliceDenoiser(new ChannelEcho(spec, 2)).Denoise(slices, 8, 8);

        Assert.Equal(slices[0], previous[0]);
        Assert.Equal(slices[1], previous[2]);
        Assert.Equal(slices[3], next[2]);
        Assert.Equal(slices[3], next[3]);
    }

    [Theory]
    [InlineData(100, 100, 20, new[] { 0 })]
    [InlineData(220, 100, 40, new[] { 0, 60, 120 })]
    [InlineData(230, 100, 40, new[] { 0, 60, 120, 130 })]
    public void Tile_origins_step_by_tile_minus_overlap_and_the_last_ends_flush(int size, int tile, int overlap, int[] expected) =>
        Assert.Equal(expected, SliceDenoiser.TileStarts(size, tile, overlap));
}
