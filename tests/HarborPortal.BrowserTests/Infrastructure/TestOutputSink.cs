using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>
/// Where the servers' log lines go: the output of the test that is running now. The servers live as long as
/// their collection, so each test attaches its <see cref="ITestOutputHelper"/> while it runs (tests in one
/// collection run one at a time); lines written between tests go to xunit's diagnostic messages.
/// </summary>
public sealed class TestOutputSink(IMessageSink? diagnostics)
{
    private ITestOutputHelper? _current;

    public void Attach(ITestOutputHelper output) => Volatile.Write(ref _current, output);

    public void Detach(ITestOutputHelper output) => Interlocked.CompareExchange(ref _current, null, output);

    public void WriteLine(string line)
    {
        if (Volatile.Read(ref _current) is { } output)
        {
            try
            {
                output.WriteLine(line);
                return;
            }
            catch (InvalidOperationException)
            {
                // The test ended between the read and the write.
            }
        }

        diagnostics?.OnMessage(new DiagnosticMessage(line));
    }
}

/// <summary>The portal's logs, filtered by its own <c>Logging</c> configuration, into a <see cref="TestOutputSink"/>.</summary>
public sealed class TestOutputLoggerProvider(TestOutputSink sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(sink, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestOutputSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"[portal] {logLevel,-11} {category}: {formatter(state, exception)}";
            sink.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
        }
    }
}
