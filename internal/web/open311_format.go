package web

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
)

// The Open311 documents, shaped for JSON and (with their XML wrappers) XML.

type o311Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

type o311Discovery struct {
	XMLName    xml.Name       `json:"-" xml:"discovery"`
	Changeset  string         `json:"changeset" xml:"changeset"`
	Contact    string         `json:"contact" xml:"contact"`
	KeyService string         `json:"key_service" xml:"key_service"`
	Endpoints  []o311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311Service struct {
	Code        string `json:"service_code" xml:"service_code"`
	Name        string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type o311Services struct {
	XMLName xml.Name      `xml:"services"`
	Items   []o311Service `xml:"service"`
}

type o311Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

type o311Attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription string      `json:"datatype_description" xml:"datatype_description"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []o311Value `json:"values,omitempty" xml:"values>value,omitempty"`
}

type o311Definition struct {
	XMLName    xml.Name        `json:"-" xml:"service_definition"`
	Code       string          `json:"service_code" xml:"service_code"`
	Attributes []o311Attribute `json:"attributes" xml:"attributes>attribute"`
}

type o311Created struct {
	ID            string `json:"service_request_id" xml:"service_request_id"`
	Token         string `json:"token,omitempty" xml:"token,omitempty"`
	ServiceNotice string `json:"service_notice,omitempty" xml:"service_notice,omitempty"`
	AccountID     string `json:"account_id,omitempty" xml:"account_id,omitempty"`
}

type o311CreatedList struct {
	XMLName xml.Name      `xml:"service_requests"`
	Items   []o311Created `xml:"request"`
}

type o311Request struct {
	ID          string   `json:"service_request_id" xml:"service_request_id"`
	Status      string   `json:"status" xml:"status"`
	StatusNotes string   `json:"status_notes" xml:"status_notes"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	Description string   `json:"description" xml:"description"`
	Agency      string   `json:"agency_responsible" xml:"agency_responsible"`
	Notice      string   `json:"service_notice" xml:"service_notice"`
	Requested   string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated     string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected    string   `json:"expected_datetime" xml:"expected_datetime"`
	Address     string   `json:"address" xml:"address"`
	AddressID   string   `json:"address_id" xml:"address_id"`
	Zipcode     string   `json:"zipcode" xml:"zipcode"`
	Lat         *float64 `json:"lat" xml:"lat"`
	Long        *float64 `json:"long" xml:"long"`
	MediaURL    string   `json:"media_url" xml:"media_url"`
	WardCode    string   `json:"ward_code" xml:"ward_code"`
}

type o311RequestList struct {
	XMLName xml.Name      `xml:"service_requests"`
	Items   []o311Request `xml:"request"`
}

type o311Update struct {
	ID          string `json:"update_id" xml:"update_id"`
	RequestID   string `json:"service_request_id" xml:"service_request_id"`
	Status      string `json:"status" xml:"status"`
	Updated     string `json:"updated_datetime" xml:"updated_datetime"`
	Description string `json:"description" xml:"description"`
	MediaURL    string `json:"media_url" xml:"media_url"`
}

type o311UpdateList struct {
	XMLName xml.Name     `xml:"service_request_updates"`
	Items   []o311Update `xml:"request_update"`
}

type o311Err struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type o311ErrList struct {
	XMLName xml.Name  `xml:"errors"`
	Items   []o311Err `xml:"error"`
}

// o311Write answers with jsonBody or xmlBody by format.
func o311Write(w http.ResponseWriter, format string, code int, jsonBody, xmlBody any) {
	w.Header().Set("Cache-Control", "no-store")
	if format == "xml" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(xmlBody) // the client went away: nothing to do
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(jsonBody)
}

func o311Error(w http.ResponseWriter, format string, code int, desc string) {
	list := []o311Err{{Code: code, Description: desc}}
	if format == "" {
		format = "json"
	}
	o311Write(w, format, code, list, o311ErrList{Items: list})
}
