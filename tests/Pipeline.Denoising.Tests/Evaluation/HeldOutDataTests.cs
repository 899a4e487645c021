using Pipeline.Denoising.Evaluation;

namespace Pipeline.Denoising.Tests.Evaluation;

/// <summary>mricron-data's inia19 files are kept for independent checks: every path or object key naming them is held out.</summary>
public sealed class HeldOutDataTests
{
    [Theory]
    [InlineData("/usr/share/mricron/templates/inia19-t1.nii.gz", true)]
    [InlineData("training/INIA19/0001.dcm", true)]
    [InlineData("training/ch2/0001.dcm", false)]
    [InlineData("training/my-inia19-copy/0001.dcm", false)]
    public void Requirement_inia19_data_is_reserved_for_independent_checks(string path, bool reserved) =>
        Assert.Equal(reserved, HeldOutData.IsHeldOut(path));
}
