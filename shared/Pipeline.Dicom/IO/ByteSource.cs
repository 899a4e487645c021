namespace Pipeline.Dicom.IO;

/// <summary>
/// Bytes of an input that grows on demand from a stream. The buffer grows only as far as real data
/// arrives, so a hostile length field can never make us allocate more than about twice the input.
/// </summary>
internal sealed class ByteSource
{
    private byte[] _buffer;
    private int _count;
    private Stream? _stream;
    private readonly long _limit;

    public ByteSource(ReadOnlyMemory<byte> all)
    {
        // Callers hand us arrays (File.ReadAllBytes, MemoryStream); copy only when they did not.
        _buffer = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(all, out var seg) && seg.Offset == 0 && seg.Array is { } a
            ? a : all.ToArray();
        _count = all.Length;
        _limit = _count;
    }

    /// <param name="stream">Where the bytes come from.</param>
    /// <param name="limit">Most bytes read before the input is refused.</param>
    /// <param name="limitName">The <see cref="DicomReadOptions"/> property <paramref name="limit"/> comes from (named in the refusal).</param>
    /// <param name="what">What the bytes are, for the refusal ("object", "inflated dataset").</param>
    public ByteSource(Stream stream, long limit, string limitName, string what)
    {
        _stream = stream;
        _limit = Math.Min(limit, Array.MaxLength - 1);
        _limitName = limitName;
        _what = what;
        _buffer = new byte[64 * 1024];
    }

    private readonly string _limitName = "";
    private readonly string _what = "";

    /// <summary>Bytes available so far (all of them once the stream has ended).</summary>
    public int Count => _count;

    public byte[] Buffer => _buffer;

    /// <summary>Makes bytes [0, end) available; false when the input ends (or the limit is hit) first.</summary>
    public bool Ensure(long end)
    {
        if (end <= _count) return true;
        if (_stream is null) return false;
        // Read at most one byte past the limit so the caller can tell truncation from excess.
        long target = Math.Min(end, _limit + 1 - _skipped);
        while (_count < target)
        {
            if (_count == _buffer.Length)
            {
                long grown = Math.Min(Math.Max((long)_buffer.Length * 2, target), Math.Min(_limit + 1 - _skipped, Array.MaxLength));
                if (grown <= _buffer.Length) return false;
                Array.Resize(ref _buffer, (int)grown);
            }
            int n = _stream.Read(_buffer, _count, _buffer.Length - _count);
            if (n <= 0)
            {
                _stream = null;
                return false;
            }
            _count += n;
        }
        return end <= _count;
    }

    public bool LimitReached => _count + _skipped > _limit;

    /// <summary>Bytes read from the stream and dropped by <see cref="Skip"/> (they count toward the limit).</summary>
    private long _skipped;

    /// <summary>
    /// Moves past bytes [<paramref name="from"/>, <paramref name="from"/> + <paramref name="count"/>) keeping none of
    /// those not read yet: the next byte of the input lands at the returned position. -1 when the input (or the limit)
    /// ends first.
    /// </summary>
    public int Skip(int from, long count)
    {
        long end = from + count;
        if (end <= _count) return (int)end;
        if (_stream is null) return -1;
        var scratch = new byte[64 * 1024];
        for (long drop = end - _count; drop > 0;)
        {
            long room = _limit + 1 - _count - _skipped;
            if (room <= 0) return -1;
            int n = _stream.Read(scratch, 0, (int)Math.Min(scratch.Length, Math.Min(drop, room)));
            if (n <= 0)
            {
                _stream = null;
                return -1;
            }
            drop -= n;
            _skipped += n;
        }
        return _count;
    }

    /// <summary>The refusal once <see cref="LimitReached"/>: reading stopped one byte past the limit.</summary>
    public DicomLimitExceededException Exceeded(long offset, DicomTag? tag) =>
        DicomReadOptions.Exceeded(_limitName, $"{_what} larger than the limit of {_limit} bytes (reading stopped there)", offset, tag);

    /// <summary>Reads everything that is left; used before handing the rest to a decompressor.</summary>
    public void ReadToEnd()
    {
        while (Ensure((long)_count + 1)) { }
    }
}
