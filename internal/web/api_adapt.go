package web

import (
	"context"
	"net/http"

	"github.com/trothu/trothu/internal/account"
)

// Many API routes have one of four shapes: act on the resource {id} and
// answer with the result, or with 204; create from a JSON body; or act on
// {id} with a JSON body. These adapters turn a room's service method of the matching
// signature into the handler, so each such route is one line in
// apiRoutesV1 and every one parses and answers errors the same way.

// apiByID calls the service with the {id} path value and answers 200 with
// its result.
func apiByID[Out any](s *Server, call func(context.Context, *account.Principal, int64) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := apiPathID(r, "id")
		if err == nil {
			var out Out
			if out, err = call(r.Context(), principalOf(r), id); err == nil {
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		s.apiError(w, r, err)
	}
}

// apiByIDNoContent calls the service with the {id} path value and
// answers 204.
func apiByIDNoContent(s *Server, call func(context.Context, *account.Principal, int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := apiPathID(r, "id")
		if err == nil {
			if err = call(r.Context(), principalOf(r), id); err == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		s.apiError(w, r, err)
	}
}

// apiCreate answers a POST whose JSON body is the service's input, with 201.
func apiCreate[In, Out any](s *Server, call func(context.Context, *account.Principal, In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		err := decodeJSON(r, &in)
		if err == nil {
			var out Out
			if out, err = call(r.Context(), principalOf(r), in); err == nil {
				writeJSON(w, http.StatusCreated, out)
				return
			}
		}
		s.apiError(w, r, err)
	}
}

// apiWithBody answers a request to /…/{id} whose JSON body is the service's
// input, with code.
func apiWithBody[In, Out any](s *Server, code int, call func(context.Context, *account.Principal, int64, In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := apiPathID(r, "id")
		if err == nil {
			var in In
			if err = decodeJSON(r, &in); err == nil {
				var out Out
				if out, err = call(r.Context(), principalOf(r), id, in); err == nil {
					writeJSON(w, code, out)
					return
				}
			}
		}
		s.apiError(w, r, err)
	}
}

// apiBoundedList answers GET /…/{id} with the service's list — bounded by the
// service, so no cursor — as {"items": […]}.
func apiBoundedList[T any](s *Server, call func(context.Context, *account.Principal, int64) ([]T, error)) http.HandlerFunc {
	return apiListQuery(s, "", func(ctx context.Context, p *account.Principal, id int64, _ string) ([]T, error) {
		return call(ctx, p, id)
	})
}

// apiListQuery is apiBoundedList handing the service the query parameter param.
func apiListQuery[T any](s *Server, param string, call func(context.Context, *account.Principal, int64, string) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := apiPathID(r, "id")
		if err == nil {
			var out []T
			if out, err = call(r.Context(), principalOf(r), id, r.URL.Query().Get(param)); err == nil {
				writeJSON(w, http.StatusOK, apiListOf(out, ""))
				return
			}
		}
		s.apiError(w, r, err)
	}
}
