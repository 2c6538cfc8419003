package handlers

import (
	"net/http"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func userRow(u queries.User) views.UserRow {
	return views.UserRow{Username: u.Username, Admin: u.IsAdmin, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

func (s *Server) userListPage(c echo.Context, form views.Form) (*views.UserListPage, error) {
	users, err := s.Auth.ListUsers(c.Request().Context(), principal(c))
	if err != nil {
		return nil, err
	}
	page := &views.UserListPage{Form: form}
	page.Title, page.Nav = "Users", "users"
	for _, u := range users {
		page.Users = append(page.Users, userRow(u))
	}
	return page, nil
}

func (s *Server) handleUserList(c echo.Context) error {
	page, err := s.userListPage(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleUserCreate(c echo.Context) error {
	username, admin := c.FormValue("username"), c.FormValue("admin") == "1"
	_, err := s.Auth.CreateUser(c.Request().Context(), principal(c), username, c.FormValue("password"), admin)
	if err == nil {
		if err := s.setFlash(c, "success", "User "+username+" created."); err != nil {
			return err
		}
		return redirect(c, "/admin/users")
	}
	form := views.NewForm()
	form.Values["username"] = username
	if admin {
		form.Values["admin"] = "1"
	}
	if err := formFail(&form, err); err != nil {
		return err
	}
	page, perr := s.userListPage(c, form)
	if perr != nil {
		return perr
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}

func (s *Server) userPage(c echo.Context, username string) (*views.UserPage, error) {
	u, err := s.Auth.GetUser(c.Request().Context(), principal(c), username)
	if err != nil {
		return nil, err
	}
	page := &views.UserPage{User: userRow(u), Self: u.ID == principal(c).UserID, Form: views.NewForm()}
	page.Title, page.Nav = u.Username, "users"
	return page, nil
}

func (s *Server) handleUserShow(c echo.Context) error {
	page, err := s.userPage(c, c.Param("username"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// userActionDone flashes the outcome of a user action and returns to the
// user's page; a refused action (e.g. disabling the last admin) is flashed
// as an error.
func (s *Server) userActionDone(c echo.Context, username, success string, err error) error {
	kind, msg := "success", success
	if err != nil {
		if code := errs.CodeOf(err); code == errs.Internal || code == errs.Forbidden {
			return err
		}
		kind, msg = "error", errs.MessageOf(err)
	}
	if err := s.setFlash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, "/admin/users/"+username)
}

func (s *Server) handleUserSetDisabled(c echo.Context) error {
	username, disabled := c.Param("username"), c.FormValue("disabled") == "1"
	err := s.Auth.SetDisabled(c.Request().Context(), principal(c), username, disabled)
	msg := username + " is enabled."
	if disabled {
		msg = username + " is disabled; their sessions ended and their tokens stopped working."
	}
	return s.userActionDone(c, username, msg, err)
}

func (s *Server) handleUserSetAdmin(c echo.Context) error {
	username, admin := c.Param("username"), c.FormValue("admin") == "1"
	err := s.Auth.SetAdmin(c.Request().Context(), principal(c), username, admin)
	msg := username + " is no longer an administrator."
	if admin {
		msg = username + " is now an administrator."
	}
	return s.userActionDone(c, username, msg, err)
}

func (s *Server) handleUserResetPassword(c echo.Context) error {
	username := c.Param("username")
	err := s.Auth.ResetPassword(c.Request().Context(), principal(c), username, c.FormValue("password"))
	if err == nil {
		return s.userActionDone(c, username, "Password of "+username+" reset; their sessions ended.", nil)
	}
	page, perr := s.userPage(c, username)
	if perr != nil {
		return perr
	}
	if err := formFail(&page.Form, err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}
