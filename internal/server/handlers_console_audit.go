package server

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/web"
)

// consoleTimeLayouts are the times the audit filters accept: what a
// datetime-local field sends (with or without seconds), or RFC 3339.
var consoleTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

func parseConsoleTime(v string) (time.Time, bool) {
	for _, layout := range consoleTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// consoleAuditFilter reads the audit filters of r: as typed (to show them
// again), as the query that selects them, and as the store's filter. A
// filter that cannot be right is refused with a message saying why.
func (s *Server) consoleAuditFilter(r *http.Request) (web.AuditFilterView, url.Values, latchkey.AuditFilter, error) {
	q := r.URL.Query()
	v := web.AuditFilterView{User: strings.TrimSpace(q.Get("user")), Type: q.Get("type"), Outcome: q.Get("outcome"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	query := url.Values{}
	for k, val := range map[string]string{"user": v.User, "type": v.Type, "outcome": v.Outcome, "from": v.From, "to": v.To} {
		if val != "" {
			query.Set(k, val)
		}
	}
	var f latchkey.AuditFilter
	bad := func(msg string) (web.AuditFilterView, url.Values, latchkey.AuditFilter, error) {
		v.User = limitString(v.User, 320)
		return v, query, f, latchkey.Errorf(latchkey.EInvalidRequest, "%s", msg)
	}
	switch {
	case len(v.User) > 320:
		return bad("The user is too long.")
	case strings.Contains(v.User, "@"):
		u, err := s.auth.FindUser(r.Context(), v.User)
		if latchkey.IsCode(err, latchkey.ENotFound) || latchkey.IsCode(err, latchkey.EInvalidRequest) {
			return bad("No user has that email address.")
		}
		if err != nil {
			return v, query, f, err
		}
		f.UserID = u.ID
	case len(v.User) > maxCursorLength:
		return bad("No user has that ID.")
	default:
		f.UserID = v.User
	}
	if v.Type != "" && !slices.Contains(auth.AuditTypes, v.Type) {
		return bad("There is no such event type.")
	}
	f.Type = v.Type
	if v.Outcome != "" && v.Outcome != latchkey.OutcomeSuccess && v.Outcome != latchkey.OutcomeFailure {
		return bad("The outcome is success or failure.")
	}
	f.Outcome = v.Outcome
	for _, t := range []struct {
		in  string
		out *time.Time
	}{{v.From, &f.Since}, {v.To, &f.Until}} {
		if t.in == "" {
			continue
		}
		var ok bool
		if *t.out, ok = parseConsoleTime(t.in); !ok {
			return bad("A time is a date and time in UTC, e.g. 2024-01-02T15:04.")
		}
	}
	return v, query, f, nil
}

func (s *Server) handleConsoleAudit() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		pg, err := page(r)
		if err != nil {
			return err
		}
		view, query, f, err := s.consoleAuditFilter(r)
		v := web.AuditPage{Console: s.console(r, p, web.SectionAudit), Filter: view, Types: auth.AuditTypes, Paged: pg.Cursor != ""}
		base := web.ConsolePath + "/audit"
		v.FirstPage = base + "?" + query.Encode()
		export := func(format string) string {
			q := url.Values{"format": {format}}
			for k, vs := range query {
				q[k] = vs
			}
			return base + "/export?" + q.Encode()
		}
		v.ExportCSV, v.ExportJSON = export("csv"), export("json")
		if latchkey.IsCode(err, latchkey.EInvalidRequest) {
			v.Error = latchkey.ErrorMessage(err)
			return s.pages.ConsoleAudit(w, http.StatusBadRequest, v)
		}
		if err != nil {
			return err
		}
		f.Page = pg
		events, next, err := s.auth.ListAudit(r.Context(), f)
		if err != nil {
			return err
		}
		for _, e := range events {
			v.Events = append(v.Events, web.AuditRow{ID: e.ID, Time: e.Time, Type: e.Type, Outcome: e.Outcome, UserID: e.UserID,
				SessionID: e.SessionID, APIKeyID: e.APIKeyID, IP: e.IP, UserAgent: e.UserAgent, Reason: e.Reason})
		}
		if next != "" {
			q := url.Values{"cursor": {next}}
			for k, vs := range query {
				q[k] = vs
			}
			v.NextPage = base + "?" + q.Encode()
		}
		return s.pages.ConsoleAudit(w, http.StatusOK, v)
	}
}

// auditExportPage is how many events an export reads at a time.
const auditExportPage = 200

// auditCSVHeader names the columns of an audit export in CSV.
var auditCSVHeader = []string{"id", "time", "type", "outcome", "user_id", "session_id", "api_key_id", "ip", "user_agent", "reason"}

// handleConsoleAuditExport downloads every event the audit filters select,
// newest first, as CSV or as the JSON of GET /v1/admin/audit. It reads them
// a page at a time, so an export of the whole log holds one page in memory.
func (s *Server) handleConsoleAuditExport() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		format := r.URL.Query().Get("format")
		if format != "csv" && format != "json" {
			return latchkey.Errorf(latchkey.EInvalidRequest, "The export format is csv or json.")
		}
		_, _, f, err := s.consoleAuditFilter(r)
		if err != nil {
			return err
		}
		f.Page = latchkey.Page{Limit: auditExportPage}
		events, next, err := s.auth.ListAudit(r.Context(), f)
		if err != nil {
			return err // nothing written yet: an error page
		}
		name := "latchkey-audit-" + s.now().UTC().Format("20060102T150405Z") + "." + format
		h := w.Header()
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		noStore(w)
		var write func(e latchkey.AuditEvent) error
		var finish func() error
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
			cw := csv.NewWriter(w)
			_ = cw.Write(auditCSVHeader)
			write = func(e latchkey.AuditEvent) error {
				return cw.Write(csvCells(e.ID, e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Outcome, e.UserID, e.SessionID, e.APIKeyID,
					e.IP, e.UserAgent, e.Reason))
			}
			finish = func() error { cw.Flush(); return cw.Error() }
		} else {
			h.Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"events":[`))
			first := true
			write = func(e latchkey.AuditEvent) error {
				b, err := json.Marshal(auditJSON(e))
				if err != nil {
					return err
				}
				if !first {
					b = append([]byte{','}, b...)
				}
				first = false
				_, err = w.Write(b)
				return err
			}
			finish = func() error { _, err := w.Write([]byte("]}\n")); return err }
		}
		for {
			for _, e := range events {
				if err := write(e); err != nil {
					return s.abortExport(r, err)
				}
			}
			if next == "" {
				break
			}
			f.Cursor = next
			if events, next, err = s.auth.ListAudit(r.Context(), f); err != nil {
				return s.abortExport(r, err)
			}
		}
		if err := finish(); err != nil {
			return s.abortExport(r, err)
		}
		return nil
	}
}

// abortExport ends an export that failed half-way: the status is sent,
// so the connection is cut, and the download fails rather than look whole.
func (s *Server) abortExport(r *http.Request, err error) error {
	s.log.ErrorContext(r.Context(), "exporting the audit log", "err", err)
	panic(http.ErrAbortHandler)
}

// csvCells makes values safe to open in a spreadsheet: a cell that starts
// with = + - @ or a control character would be read as a formula there (CSV
// injection), and a user agent is whatever a client sent. Such a cell gets
// a leading apostrophe, which spreadsheets show as text.
func csvCells(values ...string) []string {
	for i, v := range values {
		if v != "" && strings.ContainsRune("=+-@\t\r\n", rune(v[0])) {
			values[i] = "'" + v
		}
	}
	return values
}

// auditJSON is an event as the admin API writes it.
func auditJSON(e latchkey.AuditEvent) auditEventJSON {
	return auditEventJSON{ID: e.ID, Time: e.Time.UTC(), Type: e.Type, UserID: e.UserID, SessionID: e.SessionID,
		APIKeyID: e.APIKeyID, IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Reason: e.Reason}
}
