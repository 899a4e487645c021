namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// The Prometheus side of infra/compose, checked by Debian's promtool (package prometheus): the alert rules parse, each
/// alert fires in the fault it is for and stays quiet otherwise (unit tests in alerts.test.yml), and the compose stack's
/// scrape configuration is valid. The rules are also loaded into a real Prometheus by DistributedPipelineTests.
/// </summary>
public sealed class AlertRuleTests
{
    private static readonly string Rules = Path.Combine(PrometheusServer.ComposeFolder, "prometheus");

    [Fact]
    public void Requirement_alert_rules_pass_promtool_check_and_their_unit_tests()
    {
        Assert.Contains("SUCCESS", ExternalTool.Ok("promtool", "check", "rules", Path.Combine(Rules, "alerts.yml")), StringComparison.Ordinal);
        Assert.Contains("SUCCESS", ExternalTool.Ok("promtool", "test", "rules", Path.Combine(Rules, "alerts.test.yml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Requirement_the_compose_stack_prometheus_configuration_is_valid()
    {
        // --syntax-only: the rule file it names is a path inside the container.
        Assert.Contains("SUCCESS", ExternalTool.Ok("promtool", "check", "config", "--syntax-only", Path.Combine(PrometheusServer.ComposeFolder, "prometheus.yml")), StringComparison.Ordinal);
    }
}
