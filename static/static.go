// Package static embeds the stylesheet, htmx and the small script the pages
// use, so that Keyward needs no external asset (see VENDOR.md for versions).
package static

import "embed"

// Files holds every static asset, served under /static/.
//
//go:embed *.css *.js
var Files embed.FS
