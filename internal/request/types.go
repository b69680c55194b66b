package request

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// OrgKind is the kind of body responsible for a service type.
type OrgKind string

// The responsible organisations of a ward.
const (
	OrgWardOffice  OrgKind = "ward_office" // UBND phường, xã
	OrgPolice      OrgKind = "police"      // công an phường, xã
	OrgUrbanOrder  OrgKind = "urban_order" // đội trật tự đô thị
	OrgEnvironment OrgKind = "environment" // tổ vệ sinh môi trường
	OrgHealth      OrgKind = "health"      // trạm y tế
	OrgGroupHead   OrgKind = "group_head"  // tổ trưởng tổ dân phố
)

var orgLabels = map[OrgKind][2]string{
	OrgWardOffice:  {"UBND", "People's Committee of"},
	OrgPolice:      {"Công an", "Police of"},
	OrgUrbanOrder:  {"Đội trật tự đô thị", "Urban-order team of"},
	OrgEnvironment: {"Tổ vệ sinh môi trường", "Environment team of"},
	OrgHealth:      {"Trạm y tế", "Health station of"},
	OrgGroupHead:   {"Tổ trưởng", "Head of"},
}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool { _, ok := orgLabels[k]; return ok }

// Datatypes of extra fields, as Open311 names them.
var Datatypes = []string{"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}

// FieldValue is a choice of a list field.
type FieldValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Field is an extra field a service type asks for (an Open311 attribute).
type Field struct {
	Code        string       `json:"code"`
	Label       string       `json:"label"`
	LabelEN     string       `json:"label_en,omitempty"`
	Datatype    string       `json:"datatype"`
	Required    bool         `json:"required"`
	Order       int          `json:"order"`
	Description string       `json:"description,omitempty"`
	Values      []FieldValue `json:"values,omitempty"`
}

// Type is a service type: what a resident can ask for and how it is
// routed and timed. Deadlines are in working hours.
type Type struct {
	ID                 int64   `json:"id"`
	Code               string  `json:"code"`
	Name               string  `json:"name"`
	NameEN             string  `json:"name_en"`
	Group              string  `json:"group"`
	Description        string  `json:"description"`
	OrgKind            OrgKind `json:"org_kind"`
	Fields             []Field `json:"fields"`
	PublicDefault      bool    `json:"public_default"`
	Sensitive          bool    `json:"sensitive"` // exact location blurred in public
	LocationRequired   bool    `json:"location_required"`
	AnonymousAllowed   bool    `json:"anonymous_allowed"`
	AckHours           int     `json:"ack_hours"`
	ResolveHours       int     `json:"resolve_hours"`
	UrgentAckHours     int     `json:"urgent_ack_hours"`
	UrgentResolveHours int     `json:"urgent_resolve_hours"`
	Active             bool    `json:"active"`
	Sort               int     `json:"sort"`
}

// DisplayName returns the type's name in lang.
func (t Type) DisplayName(lang string) string {
	if lang == "en" && t.NameEN != "" {
		return t.NameEN
	}
	return t.Name
}

const typeCols = `id, code, name, name_en, group_name, description, org_kind, fields, public_default, sensitive,
	location_required, anonymous_allowed, ack_hours, resolve_hours, urgent_ack_hours, urgent_resolve_hours, active, sort`

func scanType(r interface{ Scan(...any) error }, t *Type) error {
	var fields string
	var pub, sens, loc, anon, active int
	if err := r.Scan(&t.ID, &t.Code, &t.Name, &t.NameEN, &t.Group, &t.Description, &t.OrgKind, &fields, &pub, &sens,
		&loc, &anon, &t.AckHours, &t.ResolveHours, &t.UrgentAckHours, &t.UrgentResolveHours, &active, &t.Sort); err != nil {
		return err
	}
	t.PublicDefault, t.Sensitive, t.LocationRequired, t.AnonymousAllowed, t.Active = pub == 1, sens == 1, loc == 1, anon == 1, active == 1
	if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
		return fmt.Errorf("type %s fields: %w", t.Code, err)
	}
	if t.Fields == nil {
		t.Fields = []Field{}
	}
	return nil
}

// Types returns the service types, active ones only unless all is set, in
// display order. It is public.
func (s *Service) Types(ctx context.Context, all bool) ([]Type, error) {
	q := "SELECT " + typeCols + " FROM request_types"
	if !all {
		q += " WHERE active = 1"
	}
	rows, err := s.d.Query(ctx, q+" ORDER BY sort, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Type{}
	for rows.Next() {
		var t Type
		if err := scanType(rows, &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TypeByCode returns a service type. It returns apperr NotFound for an
// unknown code.
func (s *Service) TypeByCode(ctx context.Context, code string) (Type, error) {
	return s.typeCached(ctx, code)
}

func typeByCode(ctx context.Context, q querier, code string) (Type, error) {
	var t Type
	err := scanType(q.QueryRow(ctx, "SELECT "+typeCols+" FROM request_types WHERE code = ?", strings.TrimSpace(code)), &t)
	return t, notFound(err, "loại yêu cầu", "Service type")
}

func typeByID(ctx context.Context, q querier, id int64) (Type, error) {
	var t Type
	err := scanType(q.QueryRow(ctx, "SELECT "+typeCols+" FROM request_types WHERE id = ?", id), &t)
	return t, notFound(err, "loại yêu cầu", "Service type")
}

var codeRe = regexp.MustCompile(`^[a-z0-9_]{2,40}$`)

func checkType(t Type) (Type, error) {
	t.Code = strings.TrimSpace(t.Code)
	t.Name, t.NameEN, t.Group = cleanText(t.Name), cleanText(t.NameEN), cleanText(t.Group)
	t.Description = cleanBody(t.Description)
	if !codeRe.MatchString(t.Code) {
		return t, apperr.InvalidField("code", "Mã loại chỉ gồm chữ thường không dấu, số và dấu gạch dưới (2–40 ký tự).", "The code is 2–40 lowercase letters, digits and underscores.")
	}
	if t.Name == "" || len([]rune(t.Name)) > 120 {
		return t, apperr.InvalidField("name", "Vui lòng nhập tên loại yêu cầu (tối đa 120 ký tự).", "Please enter a name (at most 120 characters).")
	}
	if !t.OrgKind.Valid() {
		return t, apperr.InvalidField("org_kind", "Cơ quan phụ trách không hợp lệ.", "Unknown responsible organisation.")
	}
	for _, h := range []int{t.AckHours, t.ResolveHours, t.UrgentAckHours, t.UrgentResolveHours} {
		if h <= 0 || h > 2000 {
			return t, apperr.InvalidField("ack_hours", "Thời hạn phải từ 1 đến 2000 giờ làm việc.", "Deadlines are 1 to 2000 working hours.")
		}
	}
	if t.AckHours > t.ResolveHours || t.UrgentAckHours > t.UrgentResolveHours {
		return t, apperr.InvalidField("resolve_hours", "Thời hạn xử lý không được ngắn hơn thời hạn tiếp nhận.", "The resolve deadline cannot be shorter than the acknowledge deadline.")
	}
	seen := map[string]bool{}
	for i, f := range t.Fields {
		f.Code, f.Label = strings.TrimSpace(f.Code), cleanText(f.Label)
		if !codeRe.MatchString(f.Code) || seen[f.Code] {
			return t, apperr.InvalidField("fields", "Mã trường thêm phải là chữ thường không dấu và không trùng nhau.", "Field codes are lowercase and unique.")
		}
		seen[f.Code] = true
		if f.Label == "" || !slices.Contains(Datatypes, f.Datatype) {
			return t, apperr.InvalidField("fields", "Trường thêm cần nhãn và kiểu dữ liệu hợp lệ.", "Each field needs a label and a valid datatype.")
		}
		if strings.HasSuffix(f.Datatype, "list") && len(f.Values) == 0 {
			return t, apperr.InvalidField("fields", "Trường danh sách cần ít nhất một lựa chọn.", "A list field needs at least one value.")
		}
		t.Fields[i] = f
	}
	slices.SortStableFunc(t.Fields, func(a, b Field) int { return a.Order - b.Order })
	if t.Fields == nil {
		t.Fields = []Field{}
	}
	return t, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SaveType creates a service type, or updates the one with t.Code. The
// caller needs account.ActAdminRequests on the root. It returns apperr
// Unauthenticated, Forbidden or Invalid.
func (s *Service) SaveType(ctx context.Context, p *account.Principal, t Type) (Type, error) {
	if err := s.authorizeAdmin(ctx, p); err != nil {
		return Type{}, err
	}
	t, err := checkType(t)
	if err != nil {
		return Type{}, err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		var id int64
		var oldName string
		err := tx.QueryRow(ctx, "SELECT id, name FROM request_types WHERE code = ?", t.Code).Scan(&id, &oldName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := db.Millis(s.now())
		if err := upsertType(ctx, tx, t, now); err != nil {
			return err
		}
		if id != 0 && oldName != t.Name { // requests are found by their type's name
			if err := enqueueTypeReindex(ctx, tx, typeReindex{TypeID: id, At: now}); err != nil {
				return err
			}
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditType, SubjectType: "request_type",
			SubjectID: t.Code, Detail: clip(t.Name+" ("+strconv.Itoa(len(t.Fields))+" trường thêm)", 300)})
	})
	if err != nil {
		return Type{}, err
	}
	s.cache.types.clear()
	return s.TypeByCode(ctx, t.Code)
}

func upsertType(ctx context.Context, tx *db.Tx, t Type, now int64) error {
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO request_types(code, name, name_en, group_name, description, org_kind, fields, public_default, sensitive,
		location_required, anonymous_allowed, ack_hours, resolve_hours, urgent_ack_hours, urgent_resolve_hours, active, sort, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, group_name = excluded.group_name,
		description = excluded.description, org_kind = excluded.org_kind, fields = excluded.fields, public_default = excluded.public_default,
		sensitive = excluded.sensitive, location_required = excluded.location_required, anonymous_allowed = excluded.anonymous_allowed,
		ack_hours = excluded.ack_hours, resolve_hours = excluded.resolve_hours, urgent_ack_hours = excluded.urgent_ack_hours,
		urgent_resolve_hours = excluded.urgent_resolve_hours, active = excluded.active, sort = excluded.sort, updated_at = excluded.updated_at`,
		t.Code, t.Name, t.NameEN, t.Group, t.Description, string(t.OrgKind), string(fields), b2i(t.PublicDefault), b2i(t.Sensitive),
		b2i(t.LocationRequired), b2i(t.AnonymousAllowed), t.AckHours, t.ResolveHours, t.UrgentAckHours, t.UrgentResolveHours, b2i(t.Active), t.Sort, now, now)
	return err
}

// authorizeAdmin checks account.ActAdminRequests on the root of the tree.
func (s *Service) authorizeAdmin(ctx context.Context, p *account.Principal) error {
	root, err := s.areas.Root(ctx)
	if err != nil {
		return err
	}
	return account.Authorize(p, account.ActAdminRequests, root.Path)
}

// DefaultTypes are the Vietnamese service types seeded on first start.
func DefaultTypes() []Type {
	list := func(vals ...string) []FieldValue {
		var out []FieldValue
		for i := 0; i+1 < len(vals); i += 2 {
			out = append(out, FieldValue{Key: vals[i], Name: vals[i+1]})
		}
		return out
	}
	return []Type{
		{Code: "an_ninh_trat_tu", Name: "An ninh trật tự", NameEN: "Public order and security", Group: "An ninh", OrgKind: OrgPolice,
			Description: "Trộm cắp, tụ tập gây rối, đánh nhau, tệ nạn, người lạ khả nghi.", PublicDefault: false, Sensitive: true, LocationRequired: true, AnonymousAllowed: true,
			AckHours: 4, ResolveHours: 40, UrgentAckHours: 1, UrgentResolveHours: 8},
		{Code: "xay_dung_trai_phep", Name: "Xây dựng trái phép, sai phép", NameEN: "Illegal construction", Group: "Trật tự đô thị", OrgKind: OrgUrbanOrder,
			Description: "Công trình xây dựng không phép, sai phép, lấn chiếm lộ giới.", PublicDefault: true, LocationRequired: true, AnonymousAllowed: true,
			AckHours: 8, ResolveHours: 80, UrgentAckHours: 2, UrgentResolveHours: 16,
			Fields: []Field{{Code: "stage", Label: "Giai đoạn thi công", LabelEN: "Construction stage", Datatype: "singlevaluelist", Order: 1,
				Values: list("foundation", "Đào móng", "frame", "Đổ khung, đổ sàn", "finishing", "Hoàn thiện")}}},
		{Code: "lan_chiem_kenh_rach", Name: "Lấn chiếm kênh rạch, san lấp", NameEN: "Encroaching on or filling canals", Group: "Trật tự đô thị", OrgKind: OrgUrbanOrder,
			Description: "Lấn chiếm, san lấp, đổ xà bần xuống kênh rạch.", PublicDefault: true, LocationRequired: true, AnonymousAllowed: true,
			AckHours: 8, ResolveHours: 80, UrgentAckHours: 2, UrgentResolveHours: 16},
		{Code: "ve_sinh_moi_truong", Name: "Vệ sinh môi trường, rác", NameEN: "Sanitation and waste", Group: "Môi trường", OrgKind: OrgEnvironment,
			Description: "Rác tồn đọng, đổ rác sai nơi, nước thải, mùi hôi.", PublicDefault: true, LocationRequired: true,
			AckHours: 8, ResolveHours: 24, UrgentAckHours: 2, UrgentResolveHours: 8},
		{Code: "ha_tang", Name: "Hạ tầng (đèn, đường, cống, ngập)", NameEN: "Infrastructure (lights, roads, drains, flooding)", Group: "Hạ tầng", OrgKind: OrgWardOffice,
			Description: "Đèn đường hỏng, đường hư, nắp cống, ngập nước.", PublicDefault: true, LocationRequired: true,
			AckHours: 8, ResolveHours: 80, UrgentAckHours: 2, UrgentResolveHours: 16,
			Fields: []Field{{Code: "kind", Label: "Hạng mục", LabelEN: "What", Datatype: "singlevaluelist", Required: true, Order: 1,
				Values: list("light", "Đèn đường", "road", "Mặt đường", "drain", "Cống, nắp cống", "flood", "Ngập nước")}}},
		{Code: "tieng_on", Name: "Tiếng ồn", NameEN: "Noise", Group: "Đời sống khu dân cư", OrgKind: OrgGroupHead,
			Description: "Karaoke, công trình, cơ sở kinh doanh gây ồn ngoài giờ.", PublicDefault: true, Sensitive: true, LocationRequired: true, AnonymousAllowed: true,
			AckHours: 4, ResolveHours: 16, UrgentAckHours: 1, UrgentResolveHours: 4},
		{Code: "hanh_chinh_cong", Name: "Hành chính công", NameEN: "Public administration", Group: "Hành chính", OrgKind: OrgWardOffice,
			Description: "Thủ tục hành chính, giấy tờ, thái độ phục vụ.", PublicDefault: false, LocationRequired: false,
			AckHours: 8, ResolveHours: 80, UrgentAckHours: 4, UrgentResolveHours: 24},
		{Code: "gop_y_khac", Name: "Góp ý – kiến nghị khác", NameEN: "Other feedback and suggestions", Group: "Khác", OrgKind: OrgWardOffice,
			Description: "Mọi góp ý, kiến nghị khác với chính quyền phường.", PublicDefault: true, LocationRequired: false, AnonymousAllowed: true,
			AckHours: 16, ResolveHours: 120, UrgentAckHours: 4, UrgentResolveHours: 40},
	}
}

// SeedTypes stores the default service types that are not there yet (it
// never overwrites an administrator's changes).
func (s *Service) SeedTypes(ctx context.Context) error {
	have, err := s.Types(ctx, true)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, t := range have {
		known[t.Code] = true
	}
	var todo []Type
	for i, t := range DefaultTypes() {
		if known[t.Code] {
			continue
		}
		t.Active, t.Sort = true, (i+1)*10
		if t, err = checkType(t); err != nil {
			return fmt.Errorf("default type %s: %w", t.Code, err)
		}
		todo = append(todo, t)
	}
	if len(todo) == 0 {
		return nil
	}
	now := db.Millis(time.Now())
	return s.d.Write(ctx, func(tx *db.Tx) error {
		for _, t := range todo {
			if err := upsertType(ctx, tx, t, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkAttrs validates the extra-field answers against the type's fields
// and returns them cleaned (multi-value lists joined with commas).
func checkAttrs(t Type, in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range t.Fields {
		v := cleanText(in[f.Code])
		if v == "" {
			if f.Required {
				return nil, apperr.InvalidField("attribute["+f.Code+"]", "Vui lòng điền: "+f.Label+".", "Please fill in: "+f.Code+".")
			}
			continue
		}
		bad := apperr.InvalidField("attribute["+f.Code+"]", "Giá trị không hợp lệ cho: "+f.Label+".", "Invalid value for: "+f.Code+".")
		switch f.Datatype {
		case "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, bad
			}
		case "datetime":
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return nil, bad
			}
		case "singlevaluelist", "multivaluelist":
			parts := strings.Split(v, ",")
			if f.Datatype == "singlevaluelist" && len(parts) > 1 {
				return nil, bad
			}
			for _, p := range parts {
				if !slices.ContainsFunc(f.Values, func(fv FieldValue) bool { return fv.Key == strings.TrimSpace(p) }) {
					return nil, bad
				}
			}
		}
		if len([]rune(v)) > 2000 {
			return nil, bad
		}
		out[f.Code] = v
	}
	return out, nil
}
