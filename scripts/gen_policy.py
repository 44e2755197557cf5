#!/usr/bin/env python3
"""Generate a large, realistic-shaped MXC policy for timing `mxcc check`/`compile`.

usage: scripts/gen_policy.py N > big.mxc   (N rules, spread over fs, net and app)
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
out = ["param workspace: path", "policy big {", "  fs {"]
nfs = n * 7 // 10
nnet = n * 2 // 10
napp = n - nfs - nnet
for i in range(nfs):
    k = i % 5
    if k == 0:
        out.append(f'    allow read, write "${{workspace}}/proj{i}/**"')
    elif k == 1:
        out.append(f'    deny write "${{workspace}}/proj{i-1}/secret{i}/**" because "carve-out {i}"')
    elif k == 2:
        out.append(f'    allow read "/srv/data{i}/*.ext{i % 50}"')
    elif k == 3:
        out.append(f'    ask write "/srv/shared/team{i}/**"')
    else:
        out.append(f'    allow read "/opt/tool{i}/{{bin,lib}}/**"')
out.append("  }")
out.append("  net {")
for i in range(nnet):
    k = i % 3
    if k == 0:
        out.append(f'    allow connect "svc{i}.example.com:443"')
    elif k == 1:
        out.append(f'    allow connect "*.domain{i}.org:80,443"')
    else:
        out.append(f'    deny connect "10.{i % 256}.{(i // 256) % 256}.0/24"')
out.append("  }")
out.append("  app {")
for i in range(napp):
    if i % 2 == 0:
        out.append(f'    allow launch "/usr/bin/tool{i}"')
    else:
        out.append(f'    deny launch "/usr/bin/tool{i-1}" args "*--danger{i}*"')
out.append("  }")
out.append("}")
out.append("agent big-agent { use big }")
print("\n".join(out))
