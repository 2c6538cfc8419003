package expiry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports keyward_expiry_timestamp_seconds{project,type,name,environment}
// for every object with an end date, read from the expiries table at each
// scrape (the convention of cert-manager's
// certmanager_certificate_expiration_timestamp_seconds). A personal token is
// named owner/token, since token names are unique per user only; where one
// object has two pending dates (a signer's activation and retirement) the
// sooner is exported.
type Collector struct {
	s    *Service
	desc *prometheus.Desc
}

// NewCollector returns the collector for s.
func NewCollector(s *Service) *Collector {
	return &Collector{s: s, desc: prometheus.NewDesc("keyward_expiry_timestamp_seconds",
		"When an object ends, as a Unix time: a certificate's or truststore CA's not after, a token's expiry, a signer rotation step's scheduled time.",
		[]string{"project", "type", "name", "environment"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := c.s.db.Read.QueryContext(ctx, "SELECT type, project_name, environment_name, name, detail, at FROM expiries ORDER BY at")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	defer rows.Close()
	seen := map[[4]string]bool{}
	for rows.Next() {
		var typ, project, env, name, detail string
		var at time.Time
		if err := rows.Scan(&typ, &project, &env, &name, &detail, &at); err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			return
		}
		if Type(typ) == APIToken {
			name = detail + "/" + name
		}
		labels := [4]string{project, typ, name, env}
		if seen[labels] {
			continue // rows come soonest first: the sooner date is out
		}
		seen[labels] = true
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(at.Unix()), project, typ, name, env)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
	}
}
