#!/usr/bin/env python3
"""Adds lock entries for platform builds the registry mirror here does not serve.

The npm registry mirror of this workplace serves nx 24's and rollup 4.68's
native packages for linux-x64 only, so `npm install` leaves the other
platforms' optional packages out of package-lock.json and `npm ci` then
refuses the lock ("Missing: @nx/nx-darwin-arm64@ from lock file"). Run this
after every `npm install` that rewrites the lock. The entries it adds carry
the version, os, cpu and libc only: npm skips them on every other platform
without fetching anything.

Usage, after any `npm install` that rewrites the lock:
    npm ci 2>&1 | grep 'Missing:' | sed 's/npm error Missing: //; s/@ from lock file//' \
      | xargs python3 tools/scripts/lock-foreign-platforms.py
"""
import json,sys
lock=json.load(open('package-lock.json'))
pk=lock['packages']
missing=[name for arg in sys.argv[1:] for name in arg.split()]
parents={'@nx/':'node_modules/nx','@rollup/':'node_modules/rollup'}
added=0
for name in missing:
    parent=next(v for k,v in parents.items() if name.startswith(k))
    version=pk[parent]['optionalDependencies'][name]
    suffix=name.split('/',1)[1].split('-',1)[1]  # after nx- or rollup-
    parts=suffix.split('-')
    os_,cpu=parts[0],parts[1]
    entry={"version":version,"cpu":[cpu],"dev":True}
    if os_=='linux':
        entry["libc"]=["musl" if any('musl' in p for p in parts[2:]) else "glibc"]
    entry["license"]="MIT"; entry["optional"]=True; entry["os"]=[os_]
    key='node_modules/'+name
    if key not in pk:
        pk[key]=entry; added+=1
lock['packages']=dict(sorted(pk.items(), key=lambda kv: (kv[0]!='', kv[0])))
json.dump(lock,open('package-lock.json','w'),indent=2); open('package-lock.json','a').write('\n')
print('added',added)
