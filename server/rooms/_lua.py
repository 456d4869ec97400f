"""The Redis backend's scripts. Each runs atomically in Redis: a change and its PUBLISH are one
step, so every worker sees broadcasts in `seq` order.

KEYS: the room hash, its answers hash, its members set, the index of rooms (a sorted set of codes
scored by expiry time). ARGV: code, now (ms), ttl (ms), channel, then each script's own.
Return -1 (or {-1}) for a room that does not exist.
"""

from __future__ import annotations

PRELUDE = """
local room, answers, members, rooms = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local code, now, ttl, channel = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local function alive() return redis.call('EXISTS', room) == 1 end
local function touch()
  redis.call('PEXPIRE', room, ttl)
  redis.call('PEXPIRE', answers, ttl)
  redis.call('PEXPIRE', members, ttl)
  redis.call('ZADD', rooms, now + ttl, code)
end
local function counts()
  local n = tonumber(redis.call('HGET', room, 'poll_n') or '0')
  local c = {}
  for i = 1, n do c[i] = 0 end
  for _, v in ipairs(redis.call('HVALS', answers)) do
    local i = tonumber(v) + 1
    if c[i] then c[i] = c[i] + 1 end
  end
  return c
end
local function csv(c) return table.concat(c, ',') end
"""

CREATE = PRELUDE + """
redis.call('ZREMRANGEBYSCORE', rooms, '-inf', now)
if alive() then return 0 end
if redis.call('ZCARD', rooms) >= tonumber(ARGV[6]) then return -2 end
redis.call('HSET', room, 'teacher', ARGV[5], 'seq', 0, 'online', 0)
touch()
return 1
"""

TEACHER = PRELUDE + """
if not alive() then return false end
return redis.call('HGET', room, 'teacher')
"""

# ARGV[5] member token offered ('' for none), ARGV[6] a fresh token, ARGV[7] max members,
# ARGV[8] '1' for the teacher
JOIN = PRELUDE + """
if not alive() then return {-1} end
local teacher = ARGV[8] == '1'
local member = false
local online = tonumber(redis.call('HGET', room, 'online') or '0')
if not teacher then
  if online >= tonumber(ARGV[7]) then return {-2} end
  member = ARGV[5]
  if member == '' or redis.call('SISMEMBER', members, member) == 0 then
    member = ARGV[6]
    redis.call('SADD', members, member)
  end
  online = redis.call('HINCRBY', room, 'online', 1)
  redis.call('PUBLISH', channel, 't|0|{"type":"members","count":' .. online .. '}')
end
touch()
local h = redis.call('HMGET', room, 'seq', 'state', 'poll', 'revealed')
local mine = false
local c = false
if h[3] then
  if member then mine = redis.call('HGET', answers, member) end
  if teacher then c = csv(counts()) end
end
return {0, member, h[1], h[2], h[3], h[4], mine, c, online}
"""

LEAVE = PRELUDE + """
if not alive() then return -1 end
local online = redis.call('HINCRBY', room, 'online', -1)
if online < 0 then
  online = 0
  redis.call('HSET', room, 'online', 0)
end
redis.call('PUBLISH', channel, 't|0|{"type":"members","count":' .. online .. '}')
return online
"""

# ARGV[5] the state as JSON
STATE = PRELUDE + """
if not alive() then return -1 end
local seq = redis.call('HINCRBY', room, 'seq', 1)
redis.call('HSET', room, 'state', ARGV[5])
touch()
redis.call('PUBLISH', channel,
  'a|' .. seq .. '|{"type":"state","seq":' .. seq .. ',"state":' .. ARGV[5] .. '}')
return seq
"""

# ARGV[5] the poll's message, ARGV[6] its id as JSON, ARGV[7] the number of choices
POLL = PRELUDE + """
if not alive() then return -1 end
redis.call('HSET', room, 'poll', ARGV[5], 'poll_id', ARGV[6], 'poll_n', ARGV[7])
redis.call('HDEL', room, 'revealed')
redis.call('DEL', answers)
touch()
redis.call('PUBLISH', channel, 'a|0|' .. ARGV[5])
return 1
"""

# ARGV[5] poll id as JSON, ARGV[6] choice, ARGV[7] member ('' for a reveal by the teacher)
# returns -1 gone, -2 poll not open, -3 choice out of range (with the number of choices)
ANSWER = PRELUDE + """
if not alive() then return {-1} end
if redis.call('HGET', room, 'poll_id') ~= ARGV[5] then return {-2} end
local n = tonumber(redis.call('HGET', room, 'poll_n') or '0')
local choice = tonumber(ARGV[6])
if choice >= n then return {-3, n} end
local reveal = ARGV[7] == ''
if reveal then
  redis.call('HSET', room, 'revealed', choice)
else
  redis.call('HSET', answers, ARGV[7], choice)
end
touch()
local c = csv(counts())
if reveal then
  redis.call('PUBLISH', channel, 'a|0|{"type":"reveal","poll":' .. ARGV[5] .. ',"choice":'
    .. choice .. ',"counts":[' .. c .. ']}')
else
  redis.call('PUBLISH', channel, 't|0|{"type":"results","poll":' .. ARGV[5] .. ',"counts":['
    .. c .. ']}')
end
return {0}
"""
