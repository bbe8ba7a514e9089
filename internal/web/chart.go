package web

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// ActivityHour is one hour of sign-in activity.
type ActivityHour struct {
	Start                                   time.Time
	SignIns, Failures, Refreshes, RateLimit int64
	// Spike: the hour's failures stand out (Activity.Threshold).
	Spike bool
}

// Activity is what the activity chart shows: hours, oldest first.
type Activity struct {
	Hours []ActivityHour
	// Threshold is the failures above which an hour is a spike; Rule says
	// how it is set, for the legend.
	Threshold float64
	Rule      string
}

// The chart's geometry, in SVG user units: one column per hour.
const (
	chartLeft   = 46 // room for the y-axis labels
	chartRight  = 6
	chartTop    = 16 // room for spike markers
	chartPlot   = 84 // plot height
	chartBottom = 22 // room for the day labels
	chartStep   = 5  // per hour
	chartBar    = 4
)

// The series' colours, as SVG presentation attributes (which a CSP without
// 'unsafe-inline' allows, unlike style attributes). Each has at least 3:1
// contrast on white (WCAG 1.4.11); spikes also carry a marker, so colour
// is never the only sign.
const (
	colourSignIns   = "#2450d8"
	colourFailures  = "#c2410c"
	colourSpike     = "#7f1d1d"
	colourRefreshes = "#067647"
	colourRateLimit = "#6d28d9"
	colourAxis      = "#5b6475"
	colourGrid      = "#d9dde5"
)

// Chart is one series drawn as an SVG bar chart.
type Chart struct {
	ID            string // the element id prefix
	Title         string // the series, e.g. "Failed sign-ins"
	Summary       string // one sentence for screen readers: total, busiest hour
	Colour        string
	Width, Height int
	Bars          []ChartBar
	Grid          []ChartTick // horizontal lines with their value
	Days          []ChartTick // the start of each UTC day
	Threshold     *ChartTick  // the spike threshold (failures only)
	Markers       []ChartBar  // a triangle above each spike
	Total         int64
}

// ChartBar is one hour's bar (or a spike's marker).
type ChartBar struct {
	X, Y, W, H string
	Fill       string
	Label      string // a tooltip: the hour and its count
	Points     string // a marker's triangle
}

// ChartTick is a line from (X1, Y1) to (X2, Y2) with a label at (TX, TY).
type ChartTick struct {
	X1, Y1, X2, Y2 string
	TX, TY         string
	Label          string
}

// hline is a horizontal line across the plot at y, labelled on the left.
func hline(width int, y float64, label string) ChartTick {
	return ChartTick{X1: num(chartLeft), X2: num(float64(width - chartRight)), Y1: num(y), Y2: num(y),
		TX: num(chartLeft - 6), TY: num(y + 4), Label: label}
}

// Charts draws the four series of a, one chart each: a shared scale would
// flatten the failures under the refreshes.
func Charts(a Activity) []Chart {
	return []Chart{
		chart(a, "sign-ins", "Sign-ins", "sign-ins", colourSignIns, func(h ActivityHour) int64 { return h.SignIns }, false),
		chart(a, "failures", "Failed sign-ins", "failed sign-ins", colourFailures, func(h ActivityHour) int64 { return h.Failures }, true),
		chart(a, "refreshes", "Token refreshes", "refreshes", colourRefreshes, func(h ActivityHour) int64 { return h.Refreshes }, false),
		chart(a, "rate-limited", "Rate-limit refusals", "rate-limit refusals", colourRateLimit, func(h ActivityHour) int64 { return h.RateLimit }, false),
	}
}

func chart(a Activity, id, title, noun, colour string, value func(ActivityHour) int64, failures bool) Chart {
	c := Chart{ID: "chart-" + id, Title: title, Colour: colour, Width: chartLeft + len(a.Hours)*chartStep + chartRight,
		Height: chartTop + chartPlot + chartBottom}
	var top int64
	busiest := -1
	for i, h := range a.Hours {
		v := value(h)
		c.Total += v
		if v > top {
			top, busiest = v, i
		}
	}
	scaleTop := float64(top)
	if failures {
		scaleTop = math.Max(scaleTop, a.Threshold)
	}
	scale := niceCeiling(scaleTop)
	y := func(v float64) float64 { return chartTop + chartPlot - v/float64(scale)*chartPlot }
	for _, v := range []int64{0, scale / 2, scale} {
		if v == scale/2 && scale%2 != 0 {
			continue
		}
		c.Grid = append(c.Grid, hline(c.Width, y(float64(v)), strconv.FormatInt(v, 10)))
	}
	for i, h := range a.Hours {
		x := float64(chartLeft + i*chartStep)
		if h.Start.Hour() == 0 || i == 0 {
			c.Days = append(c.Days, ChartTick{X1: num(x - 0.5), X2: num(x - 0.5), Y1: num(chartTop), Y2: num(chartTop + chartPlot),
				TX: num(x + 1), TY: num(float64(c.Height) - 6), Label: h.Start.Format("Mon 2")})
		}
		v := value(h)
		if v == 0 {
			continue
		}
		height := math.Max(float64(v)/float64(scale)*chartPlot, 1) // one unit at least: a single event is seen
		bar := ChartBar{X: num(x), Y: num(chartTop + chartPlot - height), W: num(chartBar), H: num(height), Fill: colour,
			Label: fmt.Sprintf("%s: %d %s", h.Start.Format("Mon 2 Jan 15:04 UTC"), v, noun)}
		if failures && h.Spike {
			bar.Fill = colourSpike
			bar.Label += " (a spike)"
			top := chartTop + chartPlot - height - 2
			c.Markers = append(c.Markers, ChartBar{Fill: colourSpike, Label: bar.Label,
				Points: fmt.Sprintf("%s,%s %s,%s %s,%s", num(x-1.5), num(top-7), num(x+chartBar+1.5), num(top-7), num(x+chartBar/2.0), num(top))})
		}
		c.Bars = append(c.Bars, bar)
	}
	if failures {
		ty := y(a.Threshold)
		t := hline(c.Width, ty, fmt.Sprintf("spike threshold %.1f", a.Threshold))
		t.TX, t.TY = num(chartLeft+4), num(ty-3) // inside the plot, above the line
		c.Threshold = &t
	}
	c.Summary = fmt.Sprintf("%s: %d in the last %d days", title, c.Total, len(a.Hours)/24)
	if busiest >= 0 {
		c.Summary += fmt.Sprintf(", most in the hour from %s (%d)", a.Hours[busiest].Start.Format("Mon 2 Jan 15:04 UTC"), top)
	}
	if failures {
		n := len(c.Markers)
		c.Summary += fmt.Sprintf("; %d %s above the spike threshold of %.1f an hour", n, plural(n, "hour", "hours"), a.Threshold)
	}
	c.Summary += "."
	return c
}

// niceCeiling is the smallest of 1, 2, 5, 10, 20, 50, … (4 below 5, so
// that half of it is whole) that is at least v.
func niceCeiling(v float64) int64 {
	if v <= 4 {
		return 4
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if float64(m*p) >= v {
				return m * p
			}
		}
	}
}

// num writes a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
