package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// objectClient speaks to the tests' object server: /objects/{name} holding {"content": ...}.
type objectClient struct {
	endpoint string
	http     *http.Client
}

type objectBody struct {
	Content string `json:"content"`
}

var errNotFound = errors.New("object not found")

func newObjectClient(endpoint string) *objectClient {
	return &objectClient{endpoint: strings.TrimRight(endpoint, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

func (c *objectClient) put(ctx context.Context, name, content string) error {
	body, err := json.Marshal(objectBody{Content: content})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPut, name, body)
	return err
}

func (c *objectClient) get(ctx context.Context, name string) (string, error) {
	data, err := c.do(ctx, http.MethodGet, name, nil)
	if err != nil {
		return "", err
	}
	var object objectBody
	if err := json.Unmarshal(data, &object); err != nil {
		return "", fmt.Errorf("reading object %q: %w", name, err)
	}
	return object.Content, nil
}

func (c *objectClient) delete(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, name, nil)
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

func (c *objectClient) do(ctx context.Context, method, name string, body []byte) ([]byte, error) {
	if c.endpoint == "" {
		return nil, errors.New("no object server: set the provider's endpoint or KTFTEST_ENDPOINT")
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+"/objects/"+url.PathEscape(name), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, errNotFound
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, req.URL, resp.Status, strings.TrimSpace(string(data)))
	}
	return data, nil
}
