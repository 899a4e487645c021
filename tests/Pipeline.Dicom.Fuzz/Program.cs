using Pipeline.Dicom;
using SharpFuzz;

// AFL fuzzing entry point for the DICOM reader (not run in CI). Any exception that is not a
// DicomException is a finding. How to run: see README.md next to this file.
Fuzzer.OutOfProcess.Run(stream =>
{
    try
    {
        var file = DicomFile.Open(stream);
        _ = DicomDump.ToText(file.Dataset);
        if (file.Dataset.Contains(DicomTags.PixelData))
        {
            var pixels = file.GetPixelData();
            for (int i = 0; i < pixels.FrameCount; i++) pixels.GetFrame(i);
        }
    }
    catch (DicomException)
    {
        // Specific, expected failure on hostile input.
    }
});
