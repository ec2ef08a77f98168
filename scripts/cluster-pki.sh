# The cluster's certificates and keys, made with openssl. Sourced by cluster.sh.
# Everything is signed by one CA generated on first use; certificates whose inputs (the
# node IP) changed are made again.

# cert NAME CN ORG [SANS] [USAGE]: a key and a certificate signed by the cluster CA.
# USAGE is "client", "server" or "both".
cert() {
  local name=$1 cn=$2 org=$3 sans=${4:-} usage=${5:-client}
  local dir=$PKI key=$PKI/$name.key crt=$PKI/$name.crt ext=$PKI/$name.ext stamp
  stamp="$cn|$org|$sans|$usage"
  if [ -f "$crt" ] && [ "$(cat "$PKI/$name.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  local eku=clientAuth
  [ "$usage" = server ] && eku=serverAuth
  [ "$usage" = both ] && eku=serverAuth,clientAuth
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$ext"
  local subj="/CN=$cn"
  [ -n "$org" ] && subj="/O=$org$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$ext" -out "$crt" 2>/dev/null
  rm -f "$dir/$name.csr"
  echo "$stamp" >"$PKI/$name.stamp"
}

make_pki() {
  mkdir -p "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=ktf-local-ca" \
      -days 3650 -sha256 -out "$PKI/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  fi
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  local api_sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$SERVICE_IP,IP:$NODE_IP"
  cert apiserver kube-apiserver "" "$api_sans" server
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert admin kubernetes-admin system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kube-proxy system:kube-proxy ""
  cert coredns system:coredns ""
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert kubelet-serving "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,DNS:localhost,IP:$NODE_IP,IP:127.0.0.1" server
}

# kubeconfig FILE USER CERT_NAME: a kubeconfig that authenticates with a client certificate.
kubeconfig() {
  local file=$1 user=$2 name=$3
  write_file "$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ktf-local
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$name.crt")
    client-key-data: $(base64 -w0 "$PKI/$name.key")
contexts:
- name: $user@ktf-local
  context: {cluster: ktf-local, user: $user}
current-context: $user@ktf-local
EOF
  chmod 600 "$file"
}
