package loadtest

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePNG draws two bar charts side by side: successful requests per
// second and p99 latency, one bar per scenario.
func (r *Report) WritePNG(w io.Writer) error {
	var names []string
	var rps, p99 plotter.Values
	for _, s := range r.Scenarios {
		if s.SetupError == "" {
			names, rps, p99 = append(names, s.Scenario), append(rps, s.RequestsPerS), append(p99, s.Latency.P99)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("drawing chart: no measured scenarios")
	}
	subtitle := fmt.Sprintf("%d clients, %s", r.Concurrency, r.Target.Database)
	left, err := barPlot("requests/s ("+subtitle+")", "requests/s", names, rps)
	if err != nil {
		return err
	}
	right, err := barPlot("p99 latency ("+subtitle+")", "ms", names, p99)
	if err != nil {
		return err
	}

	const width, height = 14 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("writing PNG: %w", err)
	}
	return nil
}

func barPlot(title, unit string, names []string, values plotter.Values) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = unit
	p.Y.Min = 0
	bars, err := plotter.NewBarChart(values, vg.Points(28))
	if err != nil {
		return nil, fmt.Errorf("drawing %s: %w", title, err)
	}
	bars.LineStyle.Width = 0
	bars.Color = plotutil.Color(0)
	// Values as text over the bars: on one linear axis /healthz dwarfs
	// the hashing-bound scenarios, whose bars would otherwise be unreadable.
	xys := make(plotter.XYs, len(values))
	texts := make([]string, len(values))
	for i, v := range values {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		texts[i] = fmt.Sprintf("%.4g", v)
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return nil, fmt.Errorf("labelling %s: %w", title, err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YBottom
	}
	p.Add(bars, labels, plotter.NewGrid())
	p.NominalX(names...)
	// Half a slot of room on each side so the outer bars are not cut.
	p.X.Min, p.X.Max = -0.5, float64(len(values))-0.5
	p.Y.Max = max(p.Y.Max*1.08, 1) // room for the top label
	return p, nil
}
