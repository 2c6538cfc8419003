package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/notify"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// deliveryPageSize is how many deliveries the notifications page shows.
const deliveryPageSize = 25

func notificationsURL(project string) string { return "/projects/" + project + "/notifications" }

func deliveryRow(d notify.Delivery) views.DeliveryRow {
	return views.DeliveryRow{At: d.CreatedAt, Channel: d.Channel, Rule: d.Rule, Summary: d.Summary, Threshold: d.Threshold, Status: d.Status,
		Attempts: d.Attempts, StatusCode: d.StatusCode, Error: d.Error, NextAttempt: d.NextAttempt}
}

func (s *Server) notificationsPage(c echo.Context, project string, pageNo int) (*views.NotificationsPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	pr, err := s.Projects.Get(ctx, p, project)
	if err != nil {
		return nil, err
	}
	chans, err := s.Notify.ListChannels(ctx, p, project)
	if err != nil {
		return nil, err
	}
	rules, err := s.Notify.ListRules(ctx, p, project)
	if err != nil {
		return nil, err
	}
	hist, err := s.Notify.ListDeliveries(ctx, p, project, pageNo, deliveryPageSize)
	if err != nil {
		return nil, err
	}
	page := &views.NotificationsPage{Project: pr.Name, CanManage: notify.CanManage(pr.Permissions), Kinds: notify.Kinds, Page: pageNo,
		Pages:      int((hist.Total + deliveryPageSize - 1) / deliveryPageSize),
		NewChannel: views.ChannelForm{Kind: notify.Webhook, Enabled: true, Form: views.NewForm()},
		NewRule:    views.RuleForm{Thresholds: views.ThresholdText(notify.DefaultThresholds), Enabled: true, Form: views.NewForm()}}
	page.Title, page.Nav = "Notifications · "+pr.Name, "projects"
	for _, t := range expiry.Types {
		page.Types = append(page.Types, views.Option{Value: string(t), Label: t.Label()})
	}
	for _, ch := range chans {
		page.Channels = append(page.Channels, views.ChannelRow{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, URL: ch.URL, Enabled: ch.Enabled,
			HasSecret: ch.HasSecret, Edit: views.ChannelForm{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Enabled: ch.Enabled, Form: views.NewForm()}})
	}
	for _, r := range rules {
		labels := []string{}
		for _, t := range r.Types {
			labels = append(labels, expiry.Type(t).Label())
		}
		page.Rules = append(page.Rules, views.RuleRow{ID: r.ID, Name: r.Name, Types: labels, Thresholds: views.ThresholdText(r.Thresholds),
			Channels: r.Channels, Enabled: r.Enabled, Edit: views.RuleForm{ID: r.ID, Name: r.Name, Types: r.Types,
				Thresholds: views.ThresholdText(r.Thresholds), Channels: r.Channels, Enabled: r.Enabled, Form: views.NewForm()}})
	}
	for _, d := range hist.Items {
		page.Deliveries = append(page.Deliveries, deliveryRow(d))
	}
	return page, nil
}

func (s *Server) handleNotifications(c echo.Context) error {
	pageNo, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	page, err := s.notificationsPage(c, c.Param("project"), pageNo)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func channelFormInput(c echo.Context) notify.ChannelInput {
	return notify.ChannelInput{Name: c.FormValue("name"), Kind: c.FormValue("kind"), URL: c.FormValue("url"),
		Enabled: c.FormValue("enabled") == "1", RotateSecret: c.FormValue("rotate") == "1"}
}

// formField is the form input an error names: "thresholds[1]" is the
// thresholds input.
func formField(err error) string {
	f, _, _ := strings.Cut(errs.FieldOf(err), "[")
	return f
}

// notificationSaved answers a saved channel or rule: the page with a new
// signing secret shown once, or a redirect with a flash.
func (s *Server) notificationSaved(c echo.Context, project, message string, saved notify.SavedChannel) error {
	if saved.Secret == "" {
		if err := s.setFlash(c, "success", message); err != nil {
			return err
		}
		return redirect(c, notificationsURL(project))
	}
	page, err := s.notificationsPage(c, project, 1)
	if err != nil {
		return err
	}
	page.NewSecret, page.NewSecretFor = saved.Secret, saved.Name
	page.Flash = views.Flash{Kind: "success", Message: message}
	c.Response().Header().Set("HX-Push-Url", notificationsURL(project))
	return s.render(c, http.StatusOK, page)
}

// notificationRefused re-renders the page with the refused form open and
// the message beside its field; edit places it in the page.
func (s *Server) notificationRefused(c echo.Context, project string, err error, edit func(*views.NotificationsPage, views.Form)) error {
	if code := errs.CodeOf(err); code == errs.Internal || code == errs.Forbidden || code == errs.NotFound || code == errs.Unauthorized {
		return err
	}
	page, perr := s.notificationsPage(c, project, 1)
	if perr != nil {
		return perr
	}
	form := views.NewForm()
	form.Fail(formField(err), errs.MessageOf(err))
	edit(page, form)
	return s.render(c, http.StatusUnprocessableEntity, page)
}

func (s *Server) handleChannelCreate(c echo.Context) error {
	project, in := c.Param("project"), channelFormInput(c)
	saved, err := s.Notify.CreateChannel(c.Request().Context(), principal(c), project, in)
	if err != nil {
		return s.notificationRefused(c, project, err, func(p *views.NotificationsPage, f views.Form) {
			p.NewChannel = views.ChannelForm{Name: in.Name, Kind: in.Kind, URL: in.URL, Enabled: in.Enabled, Open: true, Form: f}
		})
	}
	return s.notificationSaved(c, project, "Channel "+saved.Name+" added.", saved)
}

func (s *Server) handleChannelUpdate(c echo.Context) error {
	project, in := c.Param("project"), channelFormInput(c)
	id, err := idParam(c, "id", "notification channel")
	if err != nil {
		return err
	}
	saved, err := s.Notify.UpdateChannel(c.Request().Context(), principal(c), project, id, in)
	if err != nil {
		return s.notificationRefused(c, project, err, func(p *views.NotificationsPage, f views.Form) {
			for i := range p.Channels {
				if p.Channels[i].ID == id {
					p.Channels[i].Edit = views.ChannelForm{ID: id, Name: in.Name, Kind: in.Kind, URL: in.URL, Enabled: in.Enabled, Open: true, Form: f}
				}
			}
		})
	}
	return s.notificationSaved(c, project, "Channel "+saved.Name+" saved.", saved)
}

func (s *Server) handleChannelDelete(c echo.Context) error {
	project := c.Param("project")
	id, err := idParam(c, "id", "notification channel")
	if err != nil {
		return err
	}
	ch, err := s.Notify.GetChannel(c.Request().Context(), principal(c), project, id)
	if err != nil {
		return err
	}
	if c.FormValue("confirm_name") != ch.Name {
		if err := s.setFlash(c, "error", "Type the channel's name exactly to delete it."); err != nil {
			return err
		}
		return redirect(c, notificationsURL(project))
	}
	if err := s.Notify.DeleteChannel(c.Request().Context(), principal(c), project, id); err != nil {
		return err
	}
	if err := s.setFlash(c, "success", "Channel "+ch.Name+" deleted."); err != nil {
		return err
	}
	return redirect(c, notificationsURL(project))
}

// handleChannelTest sends a test notification and shows its result beside
// the button (htmx), or as a flash message.
func (s *Server) handleChannelTest(c echo.Context) error {
	project := c.Param("project")
	id, err := idParam(c, "id", "notification channel")
	if err != nil {
		return err
	}
	d, err := s.Notify.SendTest(c.Request().Context(), principal(c), project, id)
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return s.render(c, http.StatusOK, &views.NotificationTestPage{Delivery: deliveryRow(d)})
	}
	kind, msg := "success", "Test notification delivered to "+d.Channel+" (HTTP "+strconv.Itoa(d.StatusCode)+")."
	if d.Status != notify.Delivered {
		kind, msg = "error", "Test notification to "+d.Channel+" failed: "+d.Error+"."
	}
	if err := s.setFlash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, notificationsURL(project))
}

// ruleFormInput reads the rule form; thresholds are typed as "30, 14, 7".
func ruleFormInput(c echo.Context) (notify.RuleInput, string, error) {
	form, _ := c.FormParams()
	raw := c.FormValue("thresholds")
	in := notify.RuleInput{Name: c.FormValue("name"), Types: form["objectTypes"], Channels: form["channels"], Enabled: c.FormValue("enabled") == "1"}
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return in, raw, errs.FieldErrorf("thresholds", "Threshold %q is not a whole number of days.", f)
		}
		in.Thresholds = append(in.Thresholds, n)
	}
	return in, raw, nil
}

func ruleForm(id int64, in notify.RuleInput, raw string, f views.Form) views.RuleForm {
	return views.RuleForm{ID: id, Name: in.Name, Types: in.Types, Thresholds: raw, Channels: in.Channels, Enabled: in.Enabled, Open: true, Form: f}
}

func (s *Server) handleRuleCreate(c echo.Context) error {
	project := c.Param("project")
	in, raw, err := ruleFormInput(c)
	if err == nil {
		_, err = s.Notify.CreateRule(c.Request().Context(), principal(c), project, in)
	}
	if err != nil {
		return s.notificationRefused(c, project, err, func(p *views.NotificationsPage, f views.Form) { p.NewRule = ruleForm(0, in, raw, f) })
	}
	return s.notificationSaved(c, project, "Rule "+strings.TrimSpace(in.Name)+" added.", notify.SavedChannel{})
}

func (s *Server) handleRuleUpdate(c echo.Context) error {
	project := c.Param("project")
	id, err := idParam(c, "id", "notification rule")
	if err != nil {
		return err
	}
	in, raw, err := ruleFormInput(c)
	if err == nil {
		_, err = s.Notify.UpdateRule(c.Request().Context(), principal(c), project, id, in)
	}
	if err != nil {
		return s.notificationRefused(c, project, err, func(p *views.NotificationsPage, f views.Form) {
			for i := range p.Rules {
				if p.Rules[i].ID == id {
					p.Rules[i].Edit = ruleForm(id, in, raw, f)
				}
			}
		})
	}
	return s.notificationSaved(c, project, "Rule "+strings.TrimSpace(in.Name)+" saved.", notify.SavedChannel{})
}

func (s *Server) handleRuleDelete(c echo.Context) error {
	project := c.Param("project")
	id, err := idParam(c, "id", "notification rule")
	if err != nil {
		return err
	}
	r, err := s.Notify.GetRule(c.Request().Context(), principal(c), project, id)
	if err != nil {
		return err
	}
	if c.FormValue("confirm_name") != r.Name {
		if err := s.setFlash(c, "error", "Type the rule's name exactly to delete it."); err != nil {
			return err
		}
		return redirect(c, notificationsURL(project))
	}
	if err := s.Notify.DeleteRule(c.Request().Context(), principal(c), project, id); err != nil {
		return err
	}
	if err := s.setFlash(c, "success", "Rule "+r.Name+" deleted."); err != nil {
		return err
	}
	return redirect(c, notificationsURL(project))
}
