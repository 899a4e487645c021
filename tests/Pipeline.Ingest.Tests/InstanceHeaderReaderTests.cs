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

    public static TheoryData<string, string, string> BadUids => new()
    {
        { "Study Instance UID", "../../outside", "has a character other than a digit or '.'" },
        { "Series Instance UID", "1.2.3\u0001.4", "has a character other than a digit or '.'" },
        { "SOP Instance UID", "1." + new string('2', 63), "has 65 characters (at most 64)" },
        { "Series Instance UID", "1.2.03.4", "has a component with a leading zero" },
        { "Series Instance UID", "", "is empty" },
    };

    /// <summary>
    /// Identifiers are untrusted: the UIDs name the series and the output keys, so one that breaks PS3.5 9.1 is refused
    /// with a reason naming the attribute, and a control character is not echoed raw into it.
    /// </summary>
    [Theory]
    [MemberData(nameof(BadUids))]
    public void An_instance_whose_uid_is_not_valid_per_ps3_5_is_refused_naming_the_attribute_and_the_rule(string attribute, string value, string rule)
    {
        var file = Image("MONOCHROME2");
        var tag = attribute switch
        {
            "Study Instance UID" => DicomTags.StudyInstanceUID,
            "Series Instance UID" => DicomTags.SeriesInstanceUID,
            _ => DicomTags.SOPInstanceUID,
        };
        file.Dataset.SetString(tag, value);

        var refused = Assert.ThrowsAny<DicomException>(() => Read(file));

        Assert.StartsWith($"{attribute} is not a valid UID: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains(rule, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(refused.Message, char.IsControl);
    }

    [Fact]
    public void A_control_character_in_a_uid_is_shown_escaped_and_a_long_value_cut_short()
    {
        var file = Image("MONOCHROME2");
        file.Dataset.SetString(DicomTags.SeriesInstanceUID, "1.2\u0007" + new string('9', 200));

        var message = Assert.ThrowsAny<DicomException>(() => Read(file)).Message;

        Assert.Contains("\"1.2\\u0007999", message, StringComparison.Ordinal);
        Assert.Contains("...\"", message, StringComparison.Ordinal);
        Assert.True(message.Length < 200, message);
    }

    [Fact]
    public void A_grey_image_is_denoisable()
    {
        Assert.Null(Read(Image("MONOCHROME1")).NotDenoisableReason);
        Assert.Null(Read(Image("MONOCHROME2")).NotDenoisableReason);
    }
}
