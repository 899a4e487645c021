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
        // The rule file is named relative to the configuration, so the check also finds and checks the rules it loads.
        var checkedConfig = ExternalTool.Ok("promtool", "check", "config", Path.Combine(PrometheusServer.ComposeFolder, "prometheus.yml"));
        Assert.Matches(@"SUCCESS: [1-9][0-9]* rules found", checkedConfig);
    }
}
