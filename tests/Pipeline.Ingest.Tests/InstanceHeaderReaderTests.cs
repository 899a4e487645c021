using Pipeline.Contracts;
using Pipeline.Denoising.Dicom;
using Pipeline.Dicom;
using Pipeline.Ingest.Series;

namespace Pipeline.Ingest.Tests;

public sealed class InstanceHeaderReaderTests
{
    private static DicomFile Image(string photometric, int samples = 1)
    {
        var file = MrImage.Create(new MrImageSpec
        {
            StudyInstanceUid = "1.2.3",
            SeriesInstanceUid = "1.2.3.4",
            SopInstanceUid = "1.2.3.4.5",
            InstanceNumber = 1,
            FrameOfReferenceUid = "1.2.3.9",
            Rows = 4,
            Columns = 4,
            Plane = new ImagePlane { PositionPatient = [0, 0, 2.5], OrientationPatient = [1, 0, 0, 0, 1, 0], PixelSpacing = [1, 1] },
        }, new float[16]);
        file.Dataset.SetNumber(DicomTags.SamplesPerPixel, samples).SetString(DicomTags.PhotometricInterpretation, photometric);
        return file;
    }

    private static InstanceHeader Read(DicomFile file)
    {
        using var buffer = new MemoryStream();
        file.Save(buffer);
        buffer.Position = 0;
        return InstanceHeaderReader.Read(new ObjectRef("incoming", "s/1.dcm"), buffer);
    }

    [Fact]
    public void A_palette_colour_image_of_one_sample_is_not_denoisable_with_the_reason_the_worker_s_decode_gives()
    {
        var file = Image("PALETTE COLOR");

        var header = Read(file);
        var decoded = Assert.Single(DecodedSeries.Decode([file]).Derive(new DerivationOptions { ModelVersion = "denoiser/1" }));

        Assert.NotNull(header.NotDenoisableReason);
        Assert.Contains("PALETTE COLOR", header.NotDenoisableReason, StringComparison.Ordinal);
        Assert.Equal(decoded!.FailureReason, header.NotDenoisableReason);
        Assert.Equal(2.5, header.SlicePosition);
    }

    [Fact]
    public void A_grey_image_is_denoisable()
    {
        Assert.Null(Read(Image("MONOCHROME1")).NotDenoisableReason);
        Assert.Null(Read(Image("MONOCHROME2")).NotDenoisableReason);
    }
}
