-- rw-by-pid: system-wide read/write activity per process, with errors.
--
-- usage: scripthost trace rw-by-pid.lua [-- command...]
local reads, writes = { order = {}, by = {} }, { order = {}, by = {} }

local function entry(t, pid)
  local e = t.by[pid]
  if not e then
    e = { comm = "", requested = 0, n = 0, bytes = 0, written = 0, errors = {}, eorder = {}, idx = #t.order + 1 }
    t.by[pid] = e
    t.order[#t.order + 1] = pid
  end
  return e
end

local function signed(v) if v >= 2^63 then return v - 2^64 end return v end

function syscalls__sys_enter_read(ev, ctx, cpu, s, ns, pid, comm, cc, nr, fd, buf, count)
  local e = entry(reads, pid); e.comm = comm; e.requested = e.requested + count; e.n = e.n + 1
end

function syscalls__sys_exit_read(ev, ctx, cpu, s, ns, pid, comm, cc, nr, ret)
  local e = entry(reads, pid)
  ret = signed(ret)
  if ret > 0 then e.bytes = e.bytes + ret
  else
    if not e.errors[ret] then e.errors[ret] = 0; e.eorder[#e.eorder + 1] = ret end
    e.errors[ret] = e.errors[ret] + 1
  end
end

function syscalls__sys_enter_write(ev, ctx, cpu, s, ns, pid, comm, cc, nr, fd, buf, count)
  local e = entry(writes, pid); e.comm = comm; e.written = e.written + count; e.n = e.n + 1
end

function syscalls__sys_exit_write(ev, ctx, cpu, s, ns, pid, comm, cc, nr, ret)
  ret = signed(ret)
  if ret <= 0 then
    local e = entry(writes, pid)
    if not e.errors[ret] then e.errors[ret] = 0; e.eorder[#e.eorder + 1] = ret end
    e.errors[ret] = e.errors[ret] + 1
  end
end

-- a stable sort, largest key first, as Python's sorted(..., reverse=True)
local function by_desc(list, key)
  for i, v in ipairs(list) do v._i = i end
  table.sort(list, function(a, b)
    if key(a) ~= key(b) then return key(a) > key(b) end
    return a._i < b._i
  end)
  return list
end

local function errors(t, title)
  print(string.format("\n%s:\n", title))
  print(string.format("%6s  %20s  %6s  %10s", "pid", "comm", "error #", "# errors"))
  print(string.format("%6s  %20s  %6s  %10s", string.rep("-", 6), string.rep("-", 20), string.rep("-", 6), string.rep("-", 10)))
  local rows = {}
  for _, pid in ipairs(t.order) do
    local e = t.by[pid]
    for _, ret in ipairs(e.eorder) do rows[#rows + 1] = { pid, e.comm, ret, e.errors[ret] } end
  end
  for _, r in ipairs(by_desc(rows, function(r) return r[4] end)) do
    print(string.format("%6d  %-20s  %6d  %10d", r[1], r[2], r[3], r[4]))
  end
end

local function list_of(t)
  local out = {}
  for _, pid in ipairs(t.order) do out[#out + 1] = { pid = pid, e = t.by[pid] } end
  return out
end

function trace_end()
  print("read counts by pid:\n")
  print(string.format("%6s  %20s  %10s  %10s  %10s", "pid", "comm", "# reads", "bytes_req", "bytes_read"))
  print(string.format("%6s  %-20s  %10s  %10s  %10s", string.rep("-", 6), string.rep("-", 20), string.rep("-", 10), string.rep("-", 10), string.rep("-", 10)))
  for _, r in ipairs(by_desc(list_of(reads), function(r) return r.e.bytes end)) do
    print(string.format("%6d  %-20s  %10d  %10d  %10d", r.pid, r.e.comm, r.e.n, r.e.requested, r.e.bytes))
  end
  errors(reads, "failed reads by pid")
  print("\nwrite counts by pid:\n")
  print(string.format("%6s  %20s  %10s  %10s", "pid", "comm", "# writes", "bytes_written"))
  print(string.format("%6s  %-20s  %10s  %10s", string.rep("-", 6), string.rep("-", 20), string.rep("-", 10), string.rep("-", 10)))
  for _, r in ipairs(by_desc(list_of(writes), function(r) return r.e.written end)) do
    print(string.format("%6d  %-20s  %10d  %10d", r.pid, r.e.comm, r.e.n, r.e.written))
  end
  errors(writes, "failed writes by pid")
end
