// Lays a provider binary out as a provider mirror that Terraform and OpenTofu both read:
// the "packed" zip of a filesystem_mirror, and beside it the index.json and <version>.json
// of the network mirror protocol, which carry the zip's hashes.
//
//	go run . -dir MIRROR -address HOST/NAMESPACE/TYPE -version V -platform OS_ARCH BINARY
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

func main() {
	dir := flag.String("dir", "", "the mirror's root directory")
	address := flag.String("address", "", "the provider's source address, HOST/NAMESPACE/TYPE")
	version := flag.String("version", "", "the provider's version, without a v")
	platform := flag.String("platform", "linux_amd64", "OS_ARCH of the binary")
	flag.Parse()
	if *dir == "" || *address == "" || *version == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := pack(*dir, *address, *version, *platform, flag.Arg(0)); err != nil {
		log.Fatal(err)
	}
}

func pack(dir, address, version, platform, binary string) error {
	providerType := path.Base(address)
	out := filepath.Join(dir, filepath.FromSlash(address))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	zipName := fmt.Sprintf("terraform-provider-%s_%s_%s.zip", providerType, version, platform)
	zipPath := filepath.Join(out, zipName)
	if err := writeZip(zipPath, fmt.Sprintf("terraform-provider-%s_v%s", providerType, version), binary); err != nil {
		return err
	}
	// h1: is what the engines compute and record in .terraform.lock.hcl (dirhash over
	// the zip's files); zh: is the SHA-256 of the zip file itself.
	h1, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	if err != nil {
		return err
	}
	zh, err := fileSHA256(zipPath)
	if err != nil {
		return err
	}
	index := map[string]any{"versions": map[string]any{version: map[string]any{}}}
	archives := map[string]any{"archives": map[string]any{
		platform: map[string]any{"url": zipName, "hashes": []string{h1, "zh:" + zh}},
	}}
	if err := writeJSON(filepath.Join(out, "index.json"), index); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(out, version+".json"), archives); err != nil {
		return err
	}
	fmt.Printf("%s\nzh:%s\n", h1, zh)
	return nil
}

// writeZip stores the binary with a fixed time, so the same binary gives the same zip.
func writeZip(zipPath, name, binary string) error {
	in, err := os.Open(binary)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	header := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	header.SetMode(0o755)
	w, err := zw.CreateHeader(header)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(name string, value any) error {
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(data, '\n'), 0o644)
}
