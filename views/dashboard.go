package views

import (
	"time"

	"github.com/keyward/keyward/internal/dashboard"
	"github.com/keyward/keyward/internal/expiry"
)

// DashboardPage is the home page: what ends soon, what changed and what
// failed, across the user's projects.
type DashboardPage struct {
	Base
	Counts      expiry.Counts
	Soon        []ExpiryRow
	SoonTotal   int64
	SoonMore    bool // more than Soon shows
	Deployments []dashboard.Deployment
	Failures    []dashboard.Failure
	Projects    []DashboardProject
	Now         time.Time
}

func (DashboardPage) Template() string { return "dashboard" }

// DashboardProject is one project's line: what each area holds.
type DashboardProject struct {
	Name                                                 string
	Keys, Certificates, JWKs, SigningKeys, KeySets, APIs int64
}
