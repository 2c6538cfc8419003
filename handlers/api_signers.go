package handlers

// Signer aliases in the REST API (their routes are in signingKeyRoutes).

import (
	"encoding/json"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/signing"
	"github.com/labstack/echo/v4"
)

type signerCreateDTO struct {
	Name         string               `json:"name"`
	ActiveKey    string               `json:"activeKey" doc:"The CKA_ID of the key it signs with."`
	Environments requiredList[string] `json:"environments"`
	LeadTime     string               `json:"leadTime" doc:"How long before a rotation's switch the next key is published, such as 24h (default 0)."`
	Retention    string               `json:"retention" doc:"How long after the switch the old key stays published: at least the longest token lifetime, such as 1h (default 0)."`
}

type signerRotateDTO struct {
	NextKey    string    `json:"nextKey" doc:"The CKA_ID of the key to switch to."`
	ActivateAt time.Time `json:"activateAt" doc:"When the alias starts signing with it (RFC 3339); by default now plus the lead time."`
}

type signerStepDTO struct {
	Kind        string     `json:"kind"`
	CKAID       string     `json:"ckaId"`
	Label       string     `json:"label"`
	ScheduledAt time.Time  `json:"scheduledAt"`
	DoneAt      *time.Time `json:"doneAt,omitempty"`
	Detail      string     `json:"detail"`
}

type signerDTO struct {
	Name         string          `json:"name"`
	ActiveKey    string          `json:"activeKey"`
	ActiveKid    string          `json:"activeKid"`
	Environments []string        `json:"environments"`
	LeadTime     string          `json:"leadTime"`
	Retention    string          `json:"retention"`
	Timeline     []signerStepDTO `json:"timeline"`
}

func toSignerDTO(sg signing.Signer) signerDTO {
	d := signerDTO{Name: sg.Name, ActiveKey: sg.ActiveKey.CkaID, ActiveKid: sg.ActiveKey.Kid, Environments: nonNil(sg.Environments),
		LeadTime: (time.Duration(sg.LeadTimeSeconds) * time.Second).String(), Retention: (time.Duration(sg.RetentionSeconds) * time.Second).String(),
		Timeline: []signerStepDTO{}}
	for _, st := range sg.Steps {
		s := signerStepDTO{Kind: st.Kind, CKAID: st.CkaID, Label: st.Label, ScheduledAt: st.DueAt, Detail: st.Detail}
		if st.DoneAt.Valid {
			t := st.DoneAt.Time
			s.DoneAt = &t
		}
		d.Timeline = append(d.Timeline, s)
	}
	return d
}

type signerResponse struct {
	apiOK
	Signer signerDTO `json:"signer"`
}

func parseDurationField(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errs.FieldErrorf(field, "%s %q must be a duration such as 24h or 90m.", field, v)
	}
	return d, nil
}

func (s *Server) handleAPISignerCreate(c echo.Context, dto signerCreateDTO) (signerResponse, error) {
	lead, err := parseDurationField("leadTime", dto.LeadTime)
	if err != nil {
		return signerResponse{}, err
	}
	keep, err := parseDurationField("retention", dto.Retention)
	if err != nil {
		return signerResponse{}, err
	}
	sg, err := s.Signing.CreateSigner(c.Request().Context(), principal(c), c.Param("projectName"), signing.SignerInput{Name: dto.Name,
		ActiveKey: dto.ActiveKey, Environments: dto.Environments.Items, LeadTime: lead, Retention: keep})
	return signerResponse{Signer: toSignerDTO(sg)}, err
}

func (s *Server) handleAPISignerList(c echo.Context) (listResponse[signerDTO], error) {
	list, err := s.Signing.ListSigners(c.Request().Context(), principal(c), c.Param("projectName"))
	out := []signerDTO{}
	for _, sg := range list {
		out = append(out, toSignerDTO(sg))
	}
	return listOf(out), err
}

func (s *Server) handleAPISignerGet(c echo.Context) (signerResponse, error) {
	sg, err := s.Signing.GetSigner(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("signerName"))
	return signerResponse{Signer: toSignerDTO(sg)}, err
}

func (s *Server) handleAPISignerRotate(c echo.Context, dto signerRotateDTO) (signerResponse, error) {
	sg, err := s.Signing.Rotate(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("signerName"), dto.NextKey, dto.ActivateAt)
	return signerResponse{Signer: toSignerDTO(sg)}, err
}

func (s *Server) handleAPISignerSign(c echo.Context, dto signRequestDTO) (signResponse, error) {
	var header map[string]any
	if len(dto.Header) > 0 && string(dto.Header) != "null" {
		if err := json.Unmarshal(dto.Header, &header); err != nil {
			return signResponse{}, errs.FieldErrorf("header", "header must be a JSON object of extra protected header members.")
		}
	}
	out, err := s.Signing.SignWithAlias(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("signerName"),
		signing.SignInput{Claims: dto.Claims, Header: header, Alg: dto.Alg, ExpiresIn: dto.ExpiresIn})
	return signResponse{Token: out.Token, Kid: out.Kid, Alg: out.Alg}, err
}
