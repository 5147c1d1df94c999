using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// Keeps every log entry of a gateway run as text: the formatted message, every structured value, every scope (and its
/// values) and the whole exception (type, message, stack, inner exceptions), so a test can search all of it.
/// </summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private static void AppendValues(List<string> parts, object? state)
    {
        parts.Add(state?.ToString() ?? "");
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                parts.Add($"{key}={Flatten(value)}");
            }
        }
    }

    private static string Flatten(object? value) => value switch
    {
        null => "",
        string s => s,
        IEnumerable sequence => string.Join(",", sequence.Cast<object?>().Select(Flatten)),
        _ => value.ToString() ?? "",
    };

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var parts = new List<string> { $"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)}" };
            AppendValues(parts, state);
            provider._scopes.ForEachScope((scope, list) => AppendValues(list, scope), parts);
            if (exception is not null)
            {
                parts.Add(exception.ToString());
                for (var inner = exception; inner is not null; inner = inner.InnerException)
                {
                    parts.Add(inner.Message);
                    foreach (DictionaryEntry entry in inner.Data)
                    {
                        parts.Add($"{entry.Key}={entry.Value}");
                    }
                }
            }
            provider._entries.Enqueue(string.Join(" | ", parts));
        }
    }
}
