package secrets

import (
	"context"
	"crypto/x509"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/internal/publish"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/keyward/keyward/queries"
)

// CertificateFilter selects certificates in a project's list.
type CertificateFilter struct {
	Search      string
	Environment string
	// ExpiresWithin keeps certificates with a configuration (in
	// Environment, when given) that ends within this long; Expired keeps
	// those already expired.
	ExpiresWithin time.Duration
	Expired       bool
	Page, Size    int
}

// CertificateEnvironment is a certificate's state in one environment.
type CertificateEnvironment struct {
	Environment      string
	Alias            string
	Source           string
	SourceURL        string
	FileName         string
	Subject          string
	Issuer           string
	Serial           string
	NotBefore        time.Time
	NotAfter         time.Time
	DaysLeft         int
	SHA1             string
	SHA256           string
	DeployedRevision int64 // 0: not deployed
	Changed          bool  // deployed, but the current certificate differs
	// On the certificate's page only: the parsed certificate, its chain
	// and the analysis against the environment's truststore.
	Details  *certs.Details
	Chain    []certs.Details
	Analysis *certs.Analysis
}

// CertificateSummary is a certificate in a list or on its page.
type CertificateSummary struct {
	queries.Certificate
	Environments []CertificateEnvironment
}

// CertificatePage is one page of a project's certificates.
type CertificatePage struct {
	Certificates []CertificateSummary
	Total        int64
	Page, Size   int
}

// daysLeft is whole days until notAfter, rounded down (as certs.Describe
// counts them): -3 exactly three days after the end.
func daysLeft(notAfter, now time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}

// ListCertificates returns a page of a project's certificates (one read
// transaction).
func (s *Service) ListCertificates(ctx context.Context, p access.Principal, project string, f CertificateFilter) (CertificatePage, error) {
	if f.Size <= 0 || f.Size > 200 {
		f.Size = 25
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	now := s.clock.Now()
	out := CertificatePage{Page: f.Page, Size: f.Size, Certificates: []CertificateSummary{}}
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		params := queries.ListCertificatesParams{ProjectID: pr.ID, Search: strings.ToLower(strings.TrimSpace(f.Search)),
			Lim: int64(f.Size), Off: int64((f.Page - 1) * f.Size)}
		if f.Environment != "" {
			env, err := environments.Load(ctx, q, f.Environment)
			if err != nil {
				return errs.FieldErrorf("environment", "Environment %q does not exist.", f.Environment)
			}
			params.EnvironmentID = env.ID
		}
		switch {
		case f.Expired:
			params.FilterExpiry, params.ExpiresBefore = 1, now
		case f.ExpiresWithin > 0:
			params.FilterExpiry, params.ExpiresBefore = 1, now.Add(f.ExpiresWithin)
		}
		rows, err := q.ListCertificates(ctx, params)
		if err != nil {
			return err
		}
		if out.Total, err = q.CountCertificates(ctx, queries.CountCertificatesParams{ProjectID: params.ProjectID, Search: params.Search,
			EnvironmentID: params.EnvironmentID, FilterExpiry: params.FilterExpiry, ExpiresBefore: params.ExpiresBefore}); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		configs, err := q.ListCertificateConfigsForCertificates(ctx, ids)
		if err != nil {
			return err
		}
		byCert := map[int64][]CertificateEnvironment{}
		for _, c := range configs {
			byCert[c.CertificateID] = append(byCert[c.CertificateID], CertificateEnvironment{Environment: c.EnvironmentName,
				Alias: c.Alias, Source: c.Source, SourceURL: c.SourceUrl, FileName: c.FileName, Subject: c.Subject, Issuer: c.Issuer,
				Serial: c.Serial, NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: daysLeft(c.NotAfter, now), SHA1: c.Sha1,
				SHA256: c.Sha256, DeployedRevision: c.DeployedRevision.Int64, Changed: c.DeployedRevision.Valid && c.DeployedSha256 != c.Sha256})
		}
		for _, r := range rows {
			out.Certificates = append(out.Certificates, CertificateSummary{Certificate: r, Environments: byCert[r.ID]})
		}
		return nil
	})
	return out, err
}

// CertificateDetail is a certificate's page: every environment parsed and
// analysed, related JWKs and recent history.
type CertificateDetail struct {
	CertificateSummary
	JWKs    []queries.Jwk
	History []queries.AuditLog
}

// GetCertificate returns a certificate with each environment's parsed
// content and chain analysis against that environment's truststore.
func (s *Service) GetCertificate(ctx context.Context, p access.Principal, project, name string) (CertificateDetail, error) {
	var d CertificateDetail
	now := s.clock.Now()
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := viewer(ctx, q, p, project)
		if err != nil {
			return err
		}
		cert, err := loadCertificate(ctx, q, pr, name)
		if err != nil {
			return err
		}
		rows, err := q.ListCertificateConfigs(ctx, cert.ID)
		if err != nil {
			return err
		}
		d = CertificateDetail{CertificateSummary: CertificateSummary{Certificate: cert}}
		for _, r := range rows {
			e, err := s.describeConfig(ctx, q, r.CertificateConfig, r.Environment, now)
			if err != nil {
				return err
			}
			d.Environments = append(d.Environments, e)
		}
		d.JWKs, err = relatedJWKs(ctx, q, certSource{cert: cert})
		return err
	})
	if err != nil {
		return CertificateDetail{}, err
	}
	hist, err := s.audit.List(ctx, audit.Filter{Project: project, Object: typeCertificate.Object(name), Size: 20})
	d.History = hist.Entries
	return d, err
}

// describeConfig parses and analyses one stored configuration.
func (s *Service) describeConfig(ctx context.Context, q *queries.Queries, cc queries.CertificateConfig, env queries.Environment, now time.Time) (CertificateEnvironment, error) {
	pc, err := storedCert(cc)
	if err != nil {
		return CertificateEnvironment{}, err
	}
	trusted, err := truststore.Trusted(ctx, q, env.Name)
	if err != nil {
		return CertificateEnvironment{}, err
	}
	det := certs.Describe(pc.cert, now)
	host := hostOf(cc.SourceUrl)
	an := certs.Analyze(pc.cert, pc.chain, trusted, host, now)
	e := CertificateEnvironment{Environment: env.Name, Alias: cc.Alias, Source: cc.Source, SourceURL: cc.SourceUrl, FileName: cc.FileName,
		Subject: det.Subject, Issuer: det.Issuer, Serial: det.Serial, NotBefore: det.NotBefore, NotAfter: det.NotAfter,
		DaysLeft: det.DaysLeft, SHA1: det.SHA1, SHA256: det.SHA256, DeployedRevision: cc.DeployedRevision.Int64,
		Changed: cc.DeployedRevision.Valid && cc.DeployedSha256 != cc.Sha256, Details: &det, Analysis: &an}
	for _, c := range pc.chain {
		e.Chain = append(e.Chain, certs.Describe(c, now))
	}
	return e, nil
}

// hostOf is the host of a fetched URL ("" for none), for hostname checks.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Hostname()
}

// CertificatePreview is one configuration as the wizard shows it before a
// save: every certificate the input holds (so the user can pick), the
// picked one parsed, and its chain analysis.
type CertificatePreview struct {
	Environment  string
	Certificates []certs.Details
	Pick         int
	Notice       string
	Analysis     certs.Analysis
	State        string // new, replaced or unchanged against what is stored
	// DeployedRevision is the stored configuration's, 0 when not deployed.
	DeployedRevision int64
}

// PreviewCertificateConfig checks one configuration as a save would and
// describes it; it writes nothing. certificate names the certificate being
// edited ("" for a new one).
func (s *Service) PreviewCertificateConfig(ctx context.Context, p access.Principal, project, certificate string, in CertConfigInput) (CertificatePreview, error) {
	var out CertificatePreview
	now := s.clock.Now()
	err := s.db.View(ctx, func(q *queries.Queries) error {
		pr, err := manager(ctx, q, p, project)
		if err != nil {
			return err
		}
		var certID int64
		current := map[string]queries.CertificateConfig{}
		if certificate != "" {
			c, err := loadCertificate(ctx, q, pr, certificate)
			if err != nil {
				return err
			}
			certID = c.ID
			rows, err := q.ListCertificateConfigs(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, r := range rows {
				current[r.Environment.Name] = r.CertificateConfig
			}
		}
		if in.Content == nil {
			in.Content = []byte{}
		}
		cp := &certParser{project: pr, certID: certID, q: q, ctx: ctx}
		prepared, err := prepareOne(ctx, q, in, cp)
		if err != nil {
			return err
		}
		parsed, err := certs.Parse(certs.Input{Field: in.Field + ".content", FileName: in.FileName, Content: in.Content, Encoding: in.Encoding, Password: in.Password})
		if err != nil {
			return err
		}
		trusted, err := truststore.Trusted(ctx, q, prepared.Env.Name)
		if err != nil {
			return err
		}
		out = CertificatePreview{Environment: prepared.Env.Name, Pick: in.Pick, Notice: parsed.Notice, State: ConfigNew}
		for _, c := range parsed.Certificates {
			out.Certificates = append(out.Certificates, certs.Describe(c, now))
		}
		out.Analysis = certs.Analyze(prepared.Parsed.cert, prepared.Parsed.chain, trusted, hostOf(in.URL), now)
		if cc, ok := current[prepared.Env.Name]; ok {
			out.State, out.DeployedRevision = ConfigReplaced, cc.DeployedRevision.Int64
			if cc.Sha256 == out.Certificates[in.Pick].SHA256 {
				out.State = ConfigUnchanged
			}
		}
		return nil
	})
	return out, err
}

// exportable is a certificate's stored configuration in one environment.
type exportable struct {
	Environment string
	Cert        *x509.Certificate
	Chain       []*x509.Certificate
}

// manager checks that p may change the project's secrets area.
func manager(ctx context.Context, q *queries.Queries, p access.Principal, project string) (queries.Project, error) {
	pr, err := projects.Visible(ctx, q, p, project)
	if err != nil {
		return pr, err
	}
	return pr, access.Require(ctx, q, p, projects.Ref(pr), access.SecretsManage)
}

// prepareOne runs one configuration through the pipeline.
func prepareOne(ctx context.Context, q *queries.Queries, in CertConfigInput, cp *certParser) (certConfig, error) {
	out, err := publish.Prepare(ctx, q, "configs", []CertConfigInput{in}, cp.parse)
	if err != nil {
		return certConfig{}, err
	}
	return out[0], nil
}
