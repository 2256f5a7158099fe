log.info("this goes to the log, not to stdout", {step: 1});
logger.warn("logger is the same object");
log.debug("debug line");
console.log("only this is printed");
const t = [];
for (let i = 1; i <= 3; i++) t.push(i + ":" + "*".repeat(i));
console.log(t.join(" "));
return {logged: true};
