using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Training;

/// <summary>
/// Neighbor2Neighbor's random neighbour sub-sampler (Huang et al., CVPR 2021): the image is cut into 2x2 cells, and in
/// each cell two different adjacent pixels (sharing an edge, never diagonal) are picked at random, one into the first
/// half-size image g1, the other into g2. With noise independent per pixel, g1 and g2 are two noisy views of almost the
/// same clean image, so one can be the training target of the other.
/// </summary>
internal static class NeighbourSubsampler
{
    /// <summary>The 8 ordered pairs of edge-adjacent positions in a cell whose positions are 0 = (0,0), 1 = (0,1), 2 = (1,0), 3 = (1,1).</summary>
    private static readonly (int First, int Second)[] AdjacentPairs = [(0, 1), (0, 2), (1, 3), (2, 3), (1, 0), (2, 0), (3, 1), (3, 2)];

    /// <summary>
    /// Draws one pair per cell of a p x p image (p even): <paramref name="first"/> and <paramref name="second"/> get, for each
    /// pixel of the (p/2) x (p/2) sub-images in row-major order, the index of the pixel it takes in the full image.
    /// </summary>
    public static void Draw(Random random, int p, Span<long> first, Span<long> second)
    {
        var half = p / 2;
        for (var cy = 0; cy < half; cy++)
            for (var cx = 0; cx < half; cx++)
            {
                var (a, b) = AdjacentPairs[random.Next(AdjacentPairs.Length)];
                first[cy * half + cx] = (2 * cy + a / 2) * p + 2 * cx + a % 2;
                second[cy * half + cx] = (2 * cy + b / 2) * p + 2 * cx + b % 2;
            }
    }

    /// <summary>
    /// The sub-image of every channel of <paramref name="images"/> [B, C, P, P] at the drawn pixels
    /// (<paramref name="indices"/> [B, (P/2)^2], int64, one row per image): [B, C, P/2, P/2]. Differentiable.
    /// </summary>
    public static Tensor Apply(Tensor images, Tensor indices)
    {
        var (b, c, p) = (images.shape[0], images.shape[1], images.shape[2]);
        var index = indices.unsqueeze(1).expand(b, c, indices.shape[1]);
        return images.flatten(2).gather(2, index).reshape(b, c, p / 2, p / 2);
    }
}
