// The ktf test provider: a small real provider the engines install from a provider mirror
// in ktf's tests, since no public registry is reachable from them.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// Set by scripts/build-provider.sh (-X main.version=...).
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run as a debug server (for delve); the engine attaches through TF_REATTACH_PROVIDERS")
	flag.Parse()
	err := providerserver.Serve(context.Background(), newProvider(version), providerserver.ServeOpts{
		Address: "registry.ktf.dev/ktf/ktftest",
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
