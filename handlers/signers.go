package handlers

// The signer alias pages: the aliases on the Key List, Create signer alias,
// and the alias page with its timeline and the Rotate form.
// internal/signing validates, schedules and runs the steps; these read the
// form and render.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func signerPath(project, name string) string {
	return "/projects/" + project + "/signing-keys/signers/" + url.PathEscape(name)
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// signerRow is an alias as the list and its page show it, with the next
// step of a pending rotation.
func signerRow(sg signing.Signer) views.SignerRow {
	r := views.SignerRow{Name: sg.Name, ActiveKey: views.SignerKey{Label: sg.ActiveKey.Label, CkaID: sg.ActiveKey.CkaID},
		Environments: sg.Environments, LeadTime: seconds(sg.LeadTimeSeconds), Retention: seconds(sg.RetentionSeconds)}
	for _, st := range signerSteps(sg) {
		if !st.Done() {
			r.Next = &st
			break
		}
	}
	return r
}

func signerSteps(sg signing.Signer) []views.SignerStep {
	out := make([]views.SignerStep, 0, len(sg.Steps))
	for _, st := range sg.Steps {
		v := views.SignerStep{Kind: st.Kind, Key: views.SignerKey{Label: st.Label, CkaID: st.CkaID}, DueAt: st.DueAt, Detail: st.Detail}
		if st.DoneAt.Valid {
			v.DoneAt = st.DoneAt.Time
		}
		out = append(out, v)
	}
	return out
}

// projectSigningKeys lists every key of the project, for the key choices.
func (s *Server) projectSigningKeys(c echo.Context, project string) ([]views.SignerKey, error) {
	var out []views.SignerKey
	for pageNo := 1; pageNo <= 50; pageNo++ {
		list, err := s.Signing.ListKeys(c.Request().Context(), principal(c), project, "", pageNo, 200)
		if err != nil {
			return nil, err
		}
		for _, k := range list.Keys {
			out = append(out, views.SignerKey{Label: k.Label, CkaID: k.CkaID})
		}
		if int64(pageNo*list.Size) >= list.Total {
			break
		}
	}
	return out, nil
}

// canDeploySigners reports whether the user may create and rotate aliases.
func canDeploySigners(perms access.Set) bool {
	return perms[access.SigningKeysManage] && perms[access.SigningKeysDeploy]
}

// signerFormPage is Create signer alias, for a user who may create one.
func (s *Server) signerFormPage(c echo.Context, project string) (*views.SignerFormPage, error) {
	if err := s.Signing.Require(c.Request().Context(), principal(c), project, access.SigningKeysManage, access.SigningKeysDeploy); err != nil {
		return nil, err
	}
	keys, err := s.projectSigningKeys(c, project)
	if err != nil {
		return nil, err
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return nil, err
	}
	page := &views.SignerFormPage{Project: project, Form: views.NewForm(), Keys: keys, Environments: envs}
	page.Form.Values["leadTime"], page.Form.Values["retention"] = "24h", "1h"
	page.Title, page.Nav = "Create signer alias", "projects"
	return page, nil
}

func (s *Server) handleSignerNew(c echo.Context) error {
	page, err := s.signerFormPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleSignerCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.signerFormPage(c, project)
	if err != nil {
		return err
	}
	for _, f := range []string{"name", "activeKey", "leadTime", "retention"} {
		page.Form.Values[f] = c.FormValue(f)
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	page.Chosen = form["environments"]
	in := signing.SignerInput{Name: c.FormValue("name"), ActiveKey: c.FormValue("activeKey"), Environments: page.Chosen}
	if in.LeadTime, err = parseDurationField("leadTime", c.FormValue("leadTime")); err != nil {
		return s.signerFormFailed(c, page, err)
	}
	if in.Retention, err = parseDurationField("retention", c.FormValue("retention")); err != nil {
		return s.signerFormFailed(c, page, err)
	}
	sg, err := s.Signing.CreateSigner(c.Request().Context(), principal(c), project, in)
	if err != nil {
		return s.signerFormFailed(c, page, err)
	}
	msg := "Signer alias " + sg.Name + " created: it signs with " + sg.ActiveKey.Label + " (CKA_ID " + sg.ActiveKey.CkaID +
		"), published in the JWKS of " + strings.Join(sg.Environments, ", ") + "."
	if err := s.setFlash(c, "success", msg); err != nil {
		return err
	}
	return redirect(c, signerPath(project, sg.Name))
}

// signerFormFailed shows Create signer alias again with the message beside
// the field it is about (422 for bad input).
func (s *Server) signerFormFailed(c echo.Context, page *views.SignerFormPage, err error) error {
	if !shownError(err) {
		return err
	}
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	switch f := errs.FieldOf(err); {
	case f == "name", f == "activeKey", f == "leadTime", f == "retention":
		page.Form.Fail(f, errs.MessageOf(err))
	case strings.HasPrefix(f, "environments"):
		page.Form.Fail("environments", errs.MessageOf(err))
	default:
		page.Form.Fail("", errs.MessageOf(err))
	}
	return s.render(c, status, page)
}

// signerPage loads the alias page.
func (s *Server) signerPage(c echo.Context, project, name string) (*views.SignerPage, error) {
	sg, err := s.Signing.GetSigner(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return nil, err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return nil, err
	}
	row := signerRow(sg)
	page := &views.SignerPage{Project: project, Signer: row, CreatedAt: sg.CreatedAt, Steps: signerSteps(sg), CanDeploy: canDeploySigners(perms),
		Rotate: views.NewForm(), Plan: views.RotationPlan{Project: project, Signer: sg.Name, Now: s.Clock.Now(), LeadTime: row.LeadTime, Retention: row.Retention},
		SignURL: s.Config.BaseURL + "/apiops/projects/" + project + "/signingKeys/signers/" + url.PathEscape(sg.Name) + "/sign"}
	page.Title, page.Nav = sg.Name+" · Signer aliases", "projects"
	if page.CanDeploy {
		keys, err := s.projectSigningKeys(c, project)
		if err != nil {
			return nil, err
		}
		page.NextKeys = slices.DeleteFunc(keys, func(k views.SignerKey) bool { return k.CkaID == sg.ActiveKey.CkaID })
	}
	return page, nil
}

func (s *Server) handleSignerShow(c echo.Context) error {
	page, err := s.signerPage(c, c.Param("project"), c.Param("name"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// parseActivateAt reads the Rotate form's datetime-local input as UTC; an
// empty one is the zero time (lead time from now).
func parseActivateAt(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{views.DatetimeLocal, "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errs.FieldErrorf("activateAt", "Activate at %q is not a date and time such as 2026-11-24T09:00 (UTC).", v)
}

// handleSignerRotate schedules the alias's switch to the next key. A
// refusal shows the page again with the message beside the field.
func (s *Server) handleSignerRotate(c echo.Context) error {
	project, name := c.Param("project"), c.Param("name")
	next := c.FormValue("nextKey")
	at, err := parseActivateAt(c.FormValue("activateAt"))
	if err == nil {
		var sg signing.Signer
		if sg, err = s.Signing.Rotate(c.Request().Context(), principal(c), project, name, next, at); err == nil {
			msg := "Rotation of " + sg.Name + " scheduled."
			for _, st := range signerSteps(sg) {
				if st.Kind == signing.StepActivate && !st.Done() {
					msg = "Rotation of " + sg.Name + " scheduled: it switches to " + st.Key.Label + " (CKA_ID " + st.Key.CkaID + ") at " +
						st.DueAt.UTC().Format("2006-01-02 15:04:05 UTC") + "."
				}
			}
			if err := s.setFlash(c, "success", msg); err != nil {
				return err
			}
			return redirect(c, signerPath(project, name))
		}
	}
	if !shownError(err) {
		return err
	}
	page, perr := s.signerPage(c, project, name)
	if perr != nil {
		return err // the alias or project is not there (or not visible): say so as the service did
	}
	page.Rotate.Values["nextKey"], page.Rotate.Values["activateAt"] = next, c.FormValue("activateAt")
	page.Plan.ActivateAt = at
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	switch f := errs.FieldOf(err); f {
	case "nextKey", "activateAt":
		page.Rotate.Fail(f, errs.MessageOf(err))
	default:
		page.Rotate.Fail("", errs.MessageOf(err))
	}
	return s.render(c, status, page)
}

// handleRotationPlan answers the Rotate form's plan for the time chosen,
// as it is chosen.
func (s *Server) handleRotationPlan(c echo.Context) error {
	project, name := c.Param("project"), c.Param("name")
	sg, err := s.Signing.GetSigner(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	plan := views.RotationPlan{Project: project, Signer: sg.Name, Now: s.Clock.Now(), LeadTime: seconds(sg.LeadTimeSeconds), Retention: seconds(sg.RetentionSeconds)}
	if plan.ActivateAt, err = parseActivateAt(c.QueryParam("activateAt")); err != nil {
		plan.Error = errs.MessageOf(err)
	}
	return s.render(c, http.StatusOK, &views.RotationPlanPage{Plan: plan})
}
