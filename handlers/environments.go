package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func envRow(e queries.Environment) views.EnvironmentRow {
	return views.EnvironmentRow{Name: e.Name, Description: e.Description, Revision: e.Revision, WebhookURL: e.WebhookUrl, UpdatedAt: e.UpdatedAt}
}

func (s *Server) environmentListPage(c echo.Context, form views.Form) (*views.EnvironmentListPage, error) {
	list, err := s.Environments.List(c.Request().Context(), principal(c))
	if err != nil {
		return nil, err
	}
	page := &views.EnvironmentListPage{Form: form}
	page.Title, page.Nav = "Environments", "environments"
	for _, e := range list {
		page.Environments = append(page.Environments, envRow(e))
	}
	return page, nil
}

func (s *Server) handleEnvironmentList(c echo.Context) error {
	page, err := s.environmentListPage(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// historyPageSize is how many deployments the environment page shows.
const historyPageSize = 25

func (s *Server) environmentPage(c echo.Context, name string, pageNo int) (*views.EnvironmentPage, error) {
	d, err := s.Environments.Get(c.Request().Context(), principal(c), name, historyPageSize, int64((pageNo-1)*historyPageSize))
	if err != nil {
		return nil, err
	}
	page := &views.EnvironmentPage{Env: envRow(d.Environment), HasWebhook: d.HasWebhook, Form: views.NewForm(), Page: pageNo,
		Pages: int((d.DeploymentsAll + historyPageSize - 1) / historyPageSize)}
	page.Title, page.Nav = d.Environment.Name, "environments"
	page.GatewayForm, page.BundleURL = views.NewForm(), s.Config.BaseURL+"/apiops/environments/"+name+"/bundle"
	if principal(c).Admin {
		toks, err := s.Environments.ListGatewayTokens(c.Request().Context(), principal(c), name)
		if err != nil {
			return nil, err
		}
		for _, t := range toks {
			page.GatewayTokens = append(page.GatewayTokens, views.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix,
				CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt.Time, LastUsed: t.LastUsedAt.Time, Revoked: t.RevokedAt.Valid})
		}
	}
	page.Form.Values["description"], page.Form.Values["webhookUrl"] = d.Environment.Description, d.Environment.WebhookUrl
	for _, x := range d.Deployments {
		page.Deployments = append(page.Deployments, views.DeploymentRow{Revision: x.Revision, At: x.CreatedAt, Actor: x.Actor,
			Action: x.Action, Project: x.Project, Object: x.ObjectType + " " + x.ObjectName, Success: x.Success,
			Message: x.Message, WebhookStatus: x.WebhookStatus})
	}
	return page, nil
}

func (s *Server) handleEnvironmentShow(c echo.Context) error {
	pageNo, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	page, err := s.environmentPage(c, c.Param("env"), pageNo)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleEnvironmentCreate creates an environment and, when it has a webhook,
// shows the new signing secret once on the environment's page.
func (s *Server) handleEnvironmentCreate(c echo.Context) error {
	in := environments.Input{Name: c.FormValue("name"), Description: c.FormValue("description"), WebhookURL: c.FormValue("webhookUrl")}
	created, err := s.Environments.Create(c.Request().Context(), principal(c), in)
	if err != nil {
		form := views.NewForm()
		form.Values["name"], form.Values["description"], form.Values["webhookUrl"] = in.Name, in.Description, in.WebhookURL
		if err := formFail(&form, err); err != nil {
			return err
		}
		page, perr := s.environmentListPage(c, form)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if created.WebhookSecret == "" {
		if err := s.setFlash(c, "success", "Environment "+in.Name+" created."); err != nil {
			return err
		}
		return redirect(c, "/environments/"+in.Name)
	}
	page, err := s.environmentPage(c, in.Name, 1)
	if err != nil {
		return err
	}
	page.NewSecret = created.WebhookSecret
	page.Flash = views.Flash{Kind: "success", Message: "Environment " + in.Name + " created."}
	c.Response().Header().Set("HX-Push-Url", "/environments/"+in.Name)
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleEnvironmentUpdate(c echo.Context) error {
	name := c.Param("env")
	in := environments.Input{Description: c.FormValue("description"), WebhookURL: c.FormValue("webhookUrl")}
	secret, err := s.Environments.Update(c.Request().Context(), principal(c), name, in, c.FormValue("rotate") == "1")
	if err != nil {
		page, perr := s.environmentPage(c, name, 1)
		if perr != nil {
			return perr
		}
		page.Form.Values["description"], page.Form.Values["webhookUrl"] = in.Description, in.WebhookURL
		if err := formFail(&page.Form, err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if secret == "" {
		if err := s.setFlash(c, "success", "Environment "+name+" saved."); err != nil {
			return err
		}
		return redirect(c, "/environments/"+name)
	}
	page, err := s.environmentPage(c, name, 1)
	if err != nil {
		return err
	}
	page.NewSecret = secret
	page.Flash = views.Flash{Kind: "success", Message: "Environment " + name + " saved with a new webhook secret."}
	c.Response().Header().Set("HX-Push-Url", "/environments/"+name)
	return s.render(c, http.StatusOK, page)
}

// handleGatewayTokenCreate creates a gateway token and shows it once.
func (s *Server) handleGatewayTokenCreate(c echo.Context) error {
	name := c.Param("env")
	var expires time.Duration
	var err error
	if v := c.FormValue("expires"); v != "" {
		if expires, err = time.ParseDuration(v); err != nil || expires <= 0 {
			err = errs.FieldErrorf("expires", "Choose when the token expires, or never.")
		}
	}
	var tok environments.NewGatewayToken
	if err == nil {
		tok, err = s.Environments.CreateGatewayToken(c.Request().Context(), principal(c), name, c.FormValue("name"), expires)
	}
	if err != nil && errs.FieldOf(err) == "" {
		return err
	}
	page, perr := s.environmentPage(c, name, 1)
	if perr != nil {
		return perr
	}
	if err != nil {
		page.GatewayForm.Values["name"], page.GatewayForm.Values["expires"] = c.FormValue("name"), c.FormValue("expires")
		page.GatewayForm.Fail(errs.FieldOf(err), errs.MessageOf(err))
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	page.NewGatewayTok = tok.Value
	c.Response().Header().Set("HX-Push-Url", "/environments/"+name)
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleGatewayTokenRevoke(c echo.Context) error {
	name := c.Param("env")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.Errorf(errs.NotFound, "No such gateway token.")
	}
	if err := s.Environments.RevokeGatewayToken(c.Request().Context(), principal(c), name, id); err != nil {
		return err
	}
	if err := s.setFlash(c, "success", "Gateway token revoked; it no longer reads the bundle."); err != nil {
		return err
	}
	return redirect(c, "/environments/"+name)
}
