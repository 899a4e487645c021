namespace Pipeline.Dicom.Tests;

public sealed class SliceOrderTests
{
    private sealed record Slice(string Key, double? Position, int? Number);

    private static string[] Ordered(params Slice[] slices) =>
        [.. SliceOrder.Order(slices, s => (s.Position, s.Number, s.Key)).Select(s => s.Key)];

    [Fact]
    public void With_every_position_present_slices_go_by_position_whatever_their_numbers_and_keys()
    {
        Assert.Equal(["c", "a", "b"], Ordered(new("a", 2.5, 1), new("b", 7.0, 2), new("c", -1.0, 3)));
    }

    [Fact]
    public void Equal_positions_go_by_instance_number_then_by_key()
    {
        // Keys and arrival order both disagree with the numbers, so only the number tie-break gives this order.
        Assert.Equal(["b", "a"], Ordered(new("a", 5.0, 2), new("b", 5.0, 1)));
        // Same position and number: only the key tie-break puts y before z.
        Assert.Equal(["y", "z"], Ordered(new("z", 5.0, 1), new("y", 5.0, 1)));
    }

    [Fact]
    public void One_missing_position_orders_the_series_by_instance_number_instead()
    {
        Assert.Equal(["high", "low", "none"], Ordered(new("low", -10.0, 2), new("none", null, 3), new("high", 10.0, 1)));
    }

    [Fact]
    public void Without_positions_missing_instance_numbers_go_last_and_equal_numbers_go_by_key()
    {
        Assert.Equal(["b", "a"], Ordered(new("a", null, null), new("b", null, 1)));
        Assert.Equal(["c", "d", "e"], Ordered(new("e", null, null), new("d", null, 4), new("c", null, 4)));
    }

    [Theory]
    [InlineData(new[] { 1.0, 0, 0, 0, 1, 0 }, 10.0)]   // axial: normal +z
    [InlineData(new[] { 0.0, 1, 0, 0, 0, -1 }, -3.0)]  // sagittal: row x column = -x
    [InlineData(new[] { 1.0, 0, 0, 0, 0, -1 }, -7.0)]  // coronal: row x column = +y
    public void Slice_position_is_the_image_position_projected_on_the_slice_normal(double[] orientation, double expected)
    {
        double[] position = [3.0, -7.0, 10.0];
        var actual = SliceOrder.PositionOf(position, orientation);
        Assert.Equal(expected, actual!.Value, 9);
    }

    [Fact]
    public void Slice_position_needs_both_image_position_and_orientation()
    {
        var dataset = new Dataset().SetNumbers(DicomTags.ImagePositionPatient, [3.0, -7.0, 10.0]);
        Assert.Null(SliceOrder.PositionOf(dataset));
        dataset.SetNumbers(DicomTags.ImageOrientationPatient, [1.0, 0, 0, 0, 1, 0]);
        Assert.Equal(10.0, SliceOrder.PositionOf(dataset)!.Value, 9);
    }
}
