namespace HarborPortal.HarborSimulator;

/// <summary>Faults tests switch on at run time; each applies to requests whose path starts with its prefix (null = all).</summary>
public sealed class SimulatorFaults
{
    private readonly Lock _gate = new();
    private readonly List<Fault> _faults = [];

    /// <summary>The next <paramref name="count"/> matching requests answer <paramref name="status"/> with Harbor's scrubbed error body.</summary>
    public void FailNext(int count, int status = 500, string? pathPrefix = null, TimeSpan? retryAfter = null)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(FaultKind.Fail, pathPrefix, count, status, TimeSpan.Zero, retryAfter));
        }
    }

    /// <summary>Every matching request waits this long before it is handled (until <see cref="Clear"/>); zero removes it.</summary>
    public void Latency(TimeSpan delay, string? pathPrefix = null)
    {
        lock (_gate)
        {
            _faults.RemoveAll(f => f.Kind == FaultKind.Latency && f.PathPrefix == pathPrefix);
            if (delay > TimeSpan.Zero)
            {
                _faults.Add(new Fault(FaultKind.Latency, pathPrefix, int.MaxValue, 0, delay, null));
            }
        }
    }

    /// <summary>The next <paramref name="count"/> matching requests have their connection aborted without an answer.</summary>
    public void ResetConnections(int count, string? pathPrefix = null)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(FaultKind.Reset, pathPrefix, count, 0, TimeSpan.Zero, null));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    internal (TimeSpan Delay, FaultKind? Action, int Status, TimeSpan? RetryAfter) Next(string path)
    {
        lock (_gate)
        {
            var delay = TimeSpan.Zero;
            foreach (var fault in _faults)
            {
                if (fault.Kind == FaultKind.Latency && fault.Matches(path))
                {
                    delay += fault.Delay;
                }
            }

            var first = _faults.FirstOrDefault(f => f.Kind != FaultKind.Latency && f.Remaining > 0 && f.Matches(path));
            if (first is null)
            {
                return (delay, null, 0, null);
            }

            first.Remaining--;
            if (first.Remaining == 0)
            {
                _faults.Remove(first);
            }

            return (delay, first.Kind, first.Status, first.RetryAfter);
        }
    }

    internal enum FaultKind
    {
        Fail,
        Latency,
        Reset,
    }

    private sealed class Fault(FaultKind kind, string? pathPrefix, int remaining, int status, TimeSpan delay, TimeSpan? retryAfter)
    {
        public FaultKind Kind { get; } = kind;
        public string? PathPrefix { get; } = pathPrefix;
        public int Remaining { get; set; } = remaining;
        public int Status { get; } = status;
        public TimeSpan Delay { get; } = delay;
        public TimeSpan? RetryAfter { get; } = retryAfter;

        public bool Matches(string path) => PathPrefix is null || path.StartsWith(PathPrefix, StringComparison.Ordinal);
    }
}
