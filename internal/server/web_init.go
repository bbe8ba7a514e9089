package server

import "github.com/latchkey/latchkey/internal/web"

// initWeb prepares the hosted pages and CORS from the configuration.
func (s *Server) initWeb(d Deps) {
	pages, err := web.NewPages()
	if err != nil {
		panic(err) // the templates are embedded: a parse error is a build defect
	}
	s.pages = pages
	s.pageRedirects, err = web.NewRedirects(d.Config.RedirectAllowlist)
	if err != nil {
		// Configuration validation refuses such entries; should one slip
		// through, allow no outside redirect at all rather than a bad one.
		s.log.Error("ignoring the redirect allow-list", "err", err)
		s.pageRedirects, _ = web.NewRedirects(nil)
	}
	if d.OAuth != nil {
		s.providers = d.OAuth.Names() // configured providers, even while discovery retries
	}
	s.corsOrigins = corsOriginSet(d.Config.CORSOrigins)
}
