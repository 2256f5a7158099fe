log.info("this goes to the log, not to stdout", {step = 1})
logger.warn("logger is the same object")
log.debug("debug line")
print("only this is printed")
local t = {}
for i = 1, 3 do t[#t + 1] = string.format("%d:%s", i, string.rep("*", i)) end
print(table.concat(t, " "))
return {logged = true}
