# A configuration that needs no provider download: terraform_data is built into the engine.
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

output "servers" {
  value = terraform_data.server[*].output
}

output "greeting" {
  value = var.greeting
}
