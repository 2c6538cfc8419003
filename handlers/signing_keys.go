package handlers

// The signing keys pages (seed 004): the Key List, Create Key, Key Details
// with publishing per environment and Delete Key (the token's user PIN),
// and the admin's token page, where the software token's PIN is set once.
// internal/signing does the work; these read the form and render.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// signingPageSize is how many keys the Key List shows at once.
const signingPageSize = 25

func signingKeyRow(k signing.Key, shared bool) views.SigningKeyRow {
	return views.SigningKeyRow{Label: k.Label, CkaID: k.CkaID, Algorithm: k.Algorithm, Bits: k.Bits, Curve: k.Curve, Origin: k.Origin,
		Backend: k.Backend, Kid: k.Kid, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, Published: k.Published, SharedLabel: shared}
}

func signingKeyPath(project, cka string) string {
	return "/projects/" + project + "/signing-keys/" + cka
}

func (s *Server) handleSigningKeyList(c echo.Context) error {
	project := c.Param("project")
	pageNo, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	search := c.QueryParam("search")
	list, err := s.Signing.ListKeys(c.Request().Context(), principal(c), project, search, pageNo, signingPageSize)
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	tok, err := s.token(c)
	if err != nil {
		return err
	}
	signers, err := s.Signing.ListSigners(c.Request().Context(), principal(c), project)
	if err != nil {
		return err
	}
	page := &views.SigningKeyListPage{Project: project, CanManage: perms[access.SigningKeysManage], Token: tok, Search: search,
		Pager: views.NewPager(list.Total, list.Page, list.Size, map[string]string{"search": search}), CanDeploy: canDeploySigners(perms)}
	page.Title, page.Nav = "Signing Keys · "+project, "projects"
	for _, k := range list.Keys {
		page.Keys = append(page.Keys, signingKeyRow(k, list.SharedLabel[k.Label]))
	}
	for _, sg := range signers {
		page.Signers = append(page.Signers, signerRow(sg))
	}
	return s.render(c, http.StatusOK, page)
}

// signingKeyFormPage is Create Key, for a user who may create keys.
func (s *Server) signingKeyFormPage(c echo.Context, project string) (*views.SigningKeyFormPage, error) {
	if err := s.Signing.Require(c.Request().Context(), principal(c), project, access.SigningKeysManage); err != nil {
		return nil, err
	}
	tok, err := s.token(c)
	if err != nil {
		return nil, err
	}
	page := &views.SigningKeyFormPage{Project: project, Token: tok, Form: views.NewForm(), Label: views.SigningLabelHint{Project: project}}
	page.Title, page.Nav = "Create signing key", "projects"
	return page, nil
}

func (s *Server) handleSigningKeyNew(c echo.Context) error {
	page, err := s.signingKeyFormPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// signingFields are the create form's inputs, by the names the service's
// field errors use.
var signingFields = []string{"label", "algorithm", "generationType", "keyLength", "curve"}

func (s *Server) handleSigningKeyCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.signingKeyFormPage(c, project)
	if err != nil {
		return err
	}
	for _, f := range signingFields {
		page.Form.Values[f] = c.FormValue(f)
	}
	in := signing.CreateInput{Label: c.FormValue("label"), Algorithm: c.FormValue("algorithm"), Curve: c.FormValue("curve"),
		GenerationType: c.FormValue("generationType"), PrivateKeyPEM: c.FormValue("privateKeyPem")}
	if in.GenerationType != signing.GenerateImport {
		in.PrivateKeyPEM = "" // the textarea is hidden for Auto Generation; what it held is not imported
	}
	if strings.EqualFold(in.Algorithm, "RSA") || in.Algorithm == "" {
		n, err := strconv.Atoi(c.FormValue("keyLength"))
		if err != nil {
			return s.signingKeyFormFailed(c, page, errs.FieldErrorf("keyLength", "Choose the key length: 2048 or 4096 bits."))
		}
		in.KeyLength = n
	}
	k, err := s.Signing.CreateKey(c.Request().Context(), principal(c), project, in)
	if err != nil {
		return s.signingKeyFormFailed(c, page, err)
	}
	msg := "Signing key " + k.Label + " created with CKA_ID " + k.CkaID + "."
	if n := s.labelTaken(c, project, k.Label); n > 1 {
		msg += " " + strconv.Itoa(n-1) + " other key(s) have the label " + k.Label + " too: they are told apart by CKA_ID."
	}
	if err := s.setFlash(c, "success", msg); err != nil {
		return err
	}
	return redirect(c, signingKeyPath(project, k.CkaID))
}

// signingKeyFormFailed shows Create Key again with the message beside the
// field it is about. The pasted private key is never sent back.
func (s *Server) signingKeyFormFailed(c echo.Context, page *views.SigningKeyFormPage, err error) error {
	if !shownError(err) {
		return err
	}
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	switch f := errs.FieldOf(err); f {
	case "label", "algorithm", "generationType", "keyLength", "curve", "privateKeyPem":
		page.Form.Fail(f, errs.MessageOf(err))
	default:
		page.Form.Fail("", errs.MessageOf(err))
	}
	page.Label.Label = page.Form.Value("label")
	if page.Form.Error("label") == "" {
		page.Label.Taken = s.labelTaken(c, page.Project, page.Label.Label)
	}
	return s.render(c, status, page)
}

// labelTaken counts the project's keys whose label is exactly label (the
// service's search also matches parts of labels and CKA_IDs).
func (s *Server) labelTaken(c echo.Context, project, label string) int {
	if strings.TrimSpace(label) == "" {
		return 0
	}
	n := 0
	for pageNo := 1; pageNo <= 50; pageNo++ {
		list, err := s.Signing.ListKeys(c.Request().Context(), principal(c), project, label, pageNo, 200)
		if err != nil {
			return 0
		}
		for _, k := range list.Keys {
			if k.Label == label {
				n++
			}
		}
		if int64(pageNo*list.Size) >= list.Total {
			break
		}
	}
	return n
}

// handleSigningLabelCheck answers the note under Create Key's label as it
// is typed: a warning when keys with that label exist.
func (s *Server) handleSigningLabelCheck(c echo.Context) error {
	project, label := c.Param("project"), c.QueryParam("label")
	// The list checks SIGNING_KEYS:VIEW (and hides other projects).
	if _, err := s.Signing.ListKeys(c.Request().Context(), principal(c), project, "", 1, 1); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, &views.SigningLabelHintPage{Hint: views.SigningLabelHint{Project: project, Label: label,
		Taken: s.labelTaken(c, project, label)}})
}

// signingKeyPage loads Key Details.
func (s *Server) signingKeyPage(c echo.Context, project, cka string) (*views.SigningKeyPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	k, err := s.Signing.GetKey(ctx, p, project, cka)
	if err != nil {
		return nil, err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return nil, err
	}
	tok, err := s.token(c)
	if err != nil {
		return nil, err
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return nil, err
	}
	page := &views.SigningKeyPage{Project: project, Key: signingKeyRow(k, false), Token: tok, PublicPEM: k.PublicKeyPEM,
		CanDeploy: perms[access.SigningKeysManage] && perms[access.SigningKeysDeploy],
		SignURL:   s.Config.BaseURL + "/apiops/projects/" + project + "/signingKeys/" + k.CkaID + "/sign"}
	page.Title, page.Nav = k.Label+" · Signing Keys", "projects"
	page.Key.SharedLabel = s.labelTaken(c, project, k.Label) > 1
	var pretty bytes.Buffer
	if json.Indent(&pretty, k.JWK, "", "  ") == nil {
		page.JWK = pretty.String()
	}
	for _, e := range envs {
		page.Environments = append(page.Environments, views.SigningKeyEnv{Environment: e, Published: slices.Contains(k.Published, e),
			JWKSURL: s.Config.BaseURL + "/jwks/" + project + "/" + e})
	}
	page.Uses, page.UsesVisible = s.recentSignatures(c, project, k.CkaID)
	return page, nil
}

// recentSignatures are the key's latest signatures in the audit log, when
// the user may read it.
func (s *Server) recentSignatures(c echo.Context, project, cka string) ([]views.SigningUse, bool) {
	got, err := s.Audit.Query(c.Request().Context(), principal(c), audit.Filter{Project: project, Action: "signing_key.sign",
		Object: "signing-key/" + cka, Size: 20})
	if err != nil {
		return nil, false
	}
	var out []views.SigningUse
	for _, e := range got.Entries {
		if e.Outcome == audit.Success && len(out) < 5 {
			out = append(out, views.SigningUse{At: e.At, Actor: e.Actor, Detail: e.Detail})
		}
	}
	return out, true
}

func (s *Server) handleSigningKeyShow(c echo.Context) error {
	page, err := s.signingKeyPage(c, c.Param("project"), c.Param("cka"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// signingKeyName is "label (CKA_ID …)" for messages, or the CKA_ID alone
// when the key cannot be read.
func (s *Server) signingKeyName(c echo.Context, project, cka string) string {
	k, err := s.Signing.GetKey(c.Request().Context(), principal(c), project, cka)
	if err != nil {
		return cka
	}
	return k.Label + " (CKA_ID " + k.CkaID + ")"
}

// handleSigningKeyPublish puts the key's public JWK in an environment's
// JWKS, or takes it out: a deploy. A refusal other than a missing
// permission is flashed on the key's page.
func (s *Server) handleSigningKeyPublish(c echo.Context) error {
	project, cka, env := c.Param("project"), c.Param("cka"), c.Param("env")
	unpublish := strings.HasSuffix(c.Path(), "/unpublish")
	res, err := s.Signing.Publish(c.Request().Context(), principal(c), project, cka, env, unpublish)
	if err != nil {
		if !shownError(err) {
			return err
		}
		if err := s.setFlash(c, "error", errs.MessageOf(err)); err != nil {
			return err
		}
		return redirect(c, signingKeyPath(project, cka))
	}
	verb := "published in the JWKS of " + env
	if unpublish {
		verb = "taken out of the JWKS of " + env
	}
	if err := s.setFlash(c, "success", "Signing key "+s.signingKeyName(c, project, cka)+" "+verb+"."+deploymentSummary(res)); err != nil {
		return err
	}
	return redirect(c, signingKeyPath(project, cka))
}

// handleSigningKeyDelete deletes the key with the token's user PIN. A
// wrong PIN deletes nothing: the page comes back with the dialog open and
// the message beside the PIN (422); too many wrong PINs lock deleting
// (429), said in the dialog.
func (s *Server) handleSigningKeyDelete(c echo.Context) error {
	project, cka := c.Param("project"), c.Param("cka")
	name := s.signingKeyName(c, project, cka)
	res, err := s.Signing.DeleteKey(c.Request().Context(), principal(c), project, cka, c.FormValue("pin"))
	if err == nil {
		if err := s.setFlash(c, "success", "Signing key "+name+" deleted from the token."+deploymentSummary(res)); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/signing-keys")
	}
	if code := errs.CodeOf(err); code == errs.Internal || code == errs.Unauthorized {
		return err
	}
	page, perr := s.signingKeyPage(c, project, cka)
	if perr != nil {
		return err // the key or project is not there (or not visible): say so as the service did
	}
	if !page.CanDeploy {
		return err
	}
	status, _, _ := classify(err)
	if errs.FieldOf(err) == "pin" {
		page.PINError, status = errs.MessageOf(err), http.StatusUnprocessableEntity
	} else {
		page.DeleteError = errs.MessageOf(err)
	}
	return s.render(c, status, page)
}
