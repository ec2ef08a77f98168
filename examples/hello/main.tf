# A configuration with a real provider: ktftest (providers/ktftest), installed from a
# private mirror as an enterprise's providers are (scripts/provider-mirror.sh), and
# terraform_data, built into the engine.
terraform {
  required_providers {
    ktftest = {
      source  = "registry.ktf.dev/ktf/ktftest"
      version = "0.1.0"
    }
  }
}

variable "greeting" {
  type    = string
  default = "hello"
}

variable "servers" {
  type    = number
  default = 2
}

resource "terraform_data" "server" {
  count = var.servers
  input = "${var.greeting}-server-${count.index}"
}

# A resource of the real provider: it takes a second to create.
resource "ktftest_sleep" "boot" {
  seconds = 1
}

output "servers" {
  value = terraform_data.server[*].output
}

output "greeting" {
  value = var.greeting
}

output "booted_at" {
  value = ktftest_sleep.boot.id
}
