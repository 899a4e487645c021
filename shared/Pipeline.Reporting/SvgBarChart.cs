using System.Globalization;
using System.Text;
using static System.Net.WebUtility;

namespace Pipeline.Reporting;

/// <summary>One coloured set of bars: a value per category (null or not finite: no bar).</summary>
internal sealed record BarSet(string Name, IReadOnlyList<double?> Values);

/// <summary>Grouped bar charts as inline SVG (no script, no external file), each bar with its value as a tooltip.</summary>
internal static class SvgBarChart
{
    private static readonly string[] Colours = ["#c0504d", "#4f81bd", "#9bbb59"];
    private const int Bar = 14, Gap = 10, Left = 56, Top = 30, PlotHeight = 160, Bottom = 90;

    public static string Grouped(string title, IReadOnlyList<string> categories, IReadOnlyList<BarSet> sets)
    {
        var finite = sets.SelectMany(s => s.Values).OfType<double>().Where(double.IsFinite).ToList();
        var max = finite.Count == 0 ? 1 : Math.Max(finite.Max(), 1e-9) * 1.1;
        var group = sets.Count * Bar + Gap;
        var plotRight = Left + categories.Count * group + Gap;
        var width = Math.Max(plotRight + 120, Left + 7 * title.Length); // room for the legend, and for the title
        var svg = new StringBuilder();
        svg.Append(Invariant($"<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{Top + PlotHeight + Bottom}\">"));
        svg.Append(Invariant($"<title>{HtmlEncode(title)}</title><text x=\"{Left}\" y=\"16\" font-weight=\"bold\">{HtmlEncode(title)}</text>"));
        for (var tick = 0; tick <= 4; tick++)
        {
            var value = max * tick / 4;
            var y = Y(value, max);
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{plotRight}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 4}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{HtmlEncode(MorningReport.Number(value, Scale(max)))}</text>"));
        }
        for (var c = 0; c < categories.Count; c++)
        {
            var x0 = Left + Gap + c * group;
            for (var s = 0; s < sets.Count; s++)
            {
                if (sets[s].Values[c] is not { } v || !double.IsFinite(v)) continue;
                var y = Y(Math.Max(v, 0), max);
                svg.Append(Invariant($"<rect class=\"bar\" x=\"{x0 + s * Bar}\" y=\"{y:0.#}\" width=\"{Bar - 2}\" height=\"{Top + PlotHeight - y:0.#}\" fill=\"{Colours[s % Colours.Length]}\">"));
                svg.Append(Invariant($"<title>{HtmlEncode(categories[c])} {HtmlEncode(sets[s].Name)}: {HtmlEncode(MorningReport.Number(v, "0.###"))}</title></rect>"));
            }
            var lx = x0 + sets.Count * Bar / 2;
            svg.Append(Invariant($"<text transform=\"translate({lx},{Top + PlotHeight + 8}) rotate(45)\">{HtmlEncode(categories[c])}</text>"));
        }
        for (var s = 0; s < sets.Count; s++)
        {
            var y = Top + s * 18;
            svg.Append(Invariant($"<rect x=\"{plotRight + 10}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{Colours[s % Colours.Length]}\"/>"));
            svg.Append(Invariant($"<text x=\"{plotRight + 26}\" y=\"{y + 10}\">{HtmlEncode(sets[s].Name)}</text>"));
        }
        svg.Append("</svg></figure>");
        return svg.ToString();
    }

    private static double Y(double value, double max) => Top + PlotHeight * (1 - value / max);

    private static string Scale(double max) => max < 1 ? "0.###" : max < 10 ? "0.#" : "0";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
