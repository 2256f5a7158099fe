const pieces = [];
const r = await llm.stream({prompt: "Stream please"}, (piece) => {
  pieces.push(piece);
  console.log("piece " + pieces.length + ": [" + piece + "]");
});
console.log("joined equals content: " + String(pieces.join("") === r.content));
console.log("pieces > 1: " + String(pieces.length > 1));
return {content: r.content, finish: r.finish_reason};
